; Garage Inbox for Windows: the NSIS installer (issue 14, DSK-1).
;
; Built in two places, with the same makensis (Debian 12's `nsis`), flags and defines:
; - `cargo xtask package windows` (xtask/src/package/windows.rs), in CI, from the GNU build:
;     makensis -V2 -WX -NOCD -INPUTCHARSET UTF8 -DVERSION=0.1.0 -DSTAGE=<dir> -DOUTFILE=<setup.exe>
;       -DLOADER_DLL packaging/windows/installer.nsi
;   and `--check` installs and uninstalls it under Wine (docs/ARCHITECTURE.md, "Shipping");
; - the release workflow (.github/workflows/release.yml), from the MSVC build that Tauri's CLI
;   makes, Authenticode-signed before makensis packs it: the same line without -DLOADER_DLL.
;   Its signed setup.exe is the Windows download and the in-app updater's update file.
; <dir> holds garage-inbox.exe, app-icon.png and icon.ico, and WebView2Loader.dll with LOADER_DLL.
;
; What it does
; - Installs for the current user only, without administrator rights, into
;   %LOCALAPPDATA%\Programs\Garage Inbox (or the folder of the previous install, or /D=...).
; - A Start-menu shortcut; the garage-inbox:// scheme and the AppUserModelID (toasts show the
;   app's name) under HKCU\Software\Classes, written exactly as the app itself re-registers them
;   at start; an entry in "Installed apps" (HKCU ...\Uninstall).
; - WebView2Loader.dll beside the exe with -DLOADER_DLL: the GNU build of the app loads it at
;   run time; the MSVC build links Microsoft's loader in statically and needs none.
; - Refuses to install without the Microsoft Edge WebView2 Runtime, saying where to get it.
;
; Command line (the first three are NSIS's own)
;   /S                silent
;   /D=C:\path        install folder (last, unquoted)
;   /P                passive: a progress bar only (what tauri-plugin-updater passes by default)
;   /R                with /S or /P: start the app when done
;   /ARGS a b ...     with /R: the app's arguments (the rest of the line)
;   /UPDATE           an update over an existing install: a Start-menu shortcut the user removed
;                     stays removed
;   /NS               no shortcuts
;   /SKIPWEBVIEW2CHECK  install even when the WebView2 Runtime is not found (IT images that add it later)
; tauri-plugin-updater 2.x runs the downloaded installer as
;   setup.exe /P /UPDATE /R /ARGS <the app's arguments>   (passive mode, 2.9 and later)
;   setup.exe /P /R /NS /UPDATE /ARGS <the app's arguments>  (passive mode, earlier 2.x)
; with /S in place of /P in its "quiet" mode.
;
; Uninstaller (uninstall.exe in the install folder)
;   /S                silent
;   /DELETEAPPDATA    also delete the app's data: settings, the offline cache and the web view's data
;                     (interactively: the "Delete app data" box on the components page; unticked)
;
; Exit codes: 0 done, 1 cancelled, 2 failed, 10 the WebView2 Runtime is missing,
; 11 Garage Inbox is running and could not be replaced.

Unicode true
ManifestDPIAware true
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION
  !error "pass -DVERSION=x.y.z"
!endif
!ifndef STAGE
  !error "pass -DSTAGE=<folder with the files>"
!endif
!ifndef OUTFILE
  !define OUTFILE "Garage-Inbox_${VERSION}_x64-setup.exe"
!endif

!define PRODUCT "Garage Inbox"
!define IDENTIFIER "app.garageinbox.desktop"
!define EXE "garage-inbox.exe"
!define SCHEME "garage-inbox"
!define PUBLISHER "Garage Inbox"
!define UNINSTALLER "uninstall.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${IDENTIFIER}"
!define SCHEME_KEY "Software\Classes\${SCHEME}"
!define AUMID_KEY "Software\Classes\AppUserModelId\${IDENTIFIER}"
!define APP_ICON "app-icon.png"
!define SHORTCUT "$SMPROGRAMS\${PRODUCT}.lnk"
; The WebView2 Runtime's EdgeUpdate client ID (Microsoft's documented detection key).
!define WEBVIEW2_CLIENT "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_URL "https://go.microsoft.com/fwlink/p/?LinkId=2124703"
!define EXIT_NO_WEBVIEW2 10
!define EXIT_IN_USE 11

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Sections.nsh"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"
ShowInstDetails nevershow
ShowUninstDetails nevershow

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "MIT licence"

!define MUI_ICON "${STAGE}/icon.ico"
!define MUI_UNICON "${STAGE}/icon.ico"
!define MUI_ABORTWARNING

Var Passive
Var Restart
Var NoShortcuts
Var Update
Var AppArgs

; Installer pages: none of them in passive mode (only the progress bar).
!define MUI_PAGE_CUSTOMFUNCTION_PRE SkipWhenPassive
!insertmacro MUI_PAGE_WELCOME
!define MUI_PAGE_CUSTOMFUNCTION_PRE SkipWhenPassive
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_PAGE_CUSTOMFUNCTION_PRE SkipWhenPassive
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT}"
!insertmacro MUI_PAGE_FINISH

; Uninstaller pages: the components page carries "Delete app data".
!insertmacro MUI_UNPAGE_CONFIRM
!define MUI_COMPONENTSPAGE_TEXT_TOP "Garage Inbox will be removed. Your app data (settings, the offline cache of conversations and the web view's data) is kept unless you tick the box; the server keeps every conversation either way."
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ---------------------------------------------------------------------------------------------
; Command line

; The position of a needle in a haystack, case-insensitively, or -1. Push the haystack, then the
; needle; Call (un.)IndexOf; Pop the position. Defined for the installer and the uninstaller,
; which NSIS keeps apart.
!macro DefineIndexOf PREFIX
  Function ${PREFIX}IndexOf
    Exch $R0 ; needle
    Exch
    Exch $R1 ; haystack
    Push $R2
    Push $R3
    Push $R4
    StrLen $R2 $R0
    StrCpy $R3 0
    ${Do}
      StrCpy $R4 $R1 $R2 $R3
      ${If} $R4 == ""
        StrCpy $R3 -1
        ${Break}
      ${EndIf}
      ${If} $R4 == $R0
        ${Break}
      ${EndIf}
      IntOp $R3 $R3 + 1
    ${Loop}
    StrCpy $R0 $R3
    Pop $R4
    Pop $R3
    Pop $R2
    Pop $R1
    Exch $R0
  FunctionEnd
!macroend
!insertmacro DefineIndexOf ""
!insertmacro DefineIndexOf "un."

; Sets $0 to 1 when the option $1 is on the command line (as a word of its own, before /ARGS).
Function HasOption
  Push $2
  Push $3
  ${GetParameters} $2
  ; Only what precedes /ARGS counts: the app's own arguments may contain anything.
  Push $2
  Push "/ARGS"
  Call IndexOf
  Pop $3
  ${If} $3 >= 0
    StrCpy $2 $2 $3
  ${EndIf}
  StrCpy $2 " $2 "
  Push $2
  Push " $1 "
  Call IndexOf
  Pop $3
  ${If} $3 >= 0
    StrCpy $0 1
  ${Else}
    StrCpy $0 0
  ${EndIf}
  Pop $3
  Pop $2
FunctionEnd


; $AppArgs: everything after "/ARGS ", unchanged.
Function ReadAppArgs
  ${GetParameters} $0
  StrCpy $0 " $0"
  Push $0
  Push " /ARGS"
  Call IndexOf
  Pop $1
  StrCpy $AppArgs ""
  ${If} $1 >= 0
    IntOp $1 $1 + 6
    StrCpy $AppArgs $0 "" $1
    ; Drop the one space that separates /ARGS from the arguments.
    StrCpy $2 $AppArgs 1
    ${If} $2 == " "
      StrCpy $AppArgs $AppArgs "" 1
    ${EndIf}
  ${EndIf}
FunctionEnd

Function SkipWhenPassive
  ${If} $Passive == 1
    Abort
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------------------------------------
; WebView2

; $0 = 1 when the WebView2 Runtime is installed for the machine or for this user.
Function HasWebView2
  StrCpy $0 0
  SetRegView 64
  ReadRegStr $1 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${If} $1 == ""
    ReadRegStr $1 HKLM "SOFTWARE\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $1 == ""
    ReadRegStr $1 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  SetRegView lastused
  ; "0.0.0.0" is what an uninstalled runtime leaves behind.
  ${If} $1 != ""
  ${AndIf} $1 != "0.0.0.0"
    StrCpy $0 1
  ${EndIf}
FunctionEnd

Function .onInit
  StrCpy $1 "/P"
  Call HasOption
  StrCpy $Passive $0
  StrCpy $1 "/R"
  Call HasOption
  StrCpy $Restart $0
  StrCpy $1 "/NS"
  Call HasOption
  StrCpy $NoShortcuts $0
  StrCpy $1 "/UPDATE"
  Call HasOption
  StrCpy $Update $0
  Call ReadAppArgs
  ${If} $Passive == 1
    SetAutoClose true
  ${EndIf}

  StrCpy $1 "/SKIPWEBVIEW2CHECK"
  Call HasOption
  ${If} $0 == 1
    Return
  ${EndIf}
  ${Do}
    Call HasWebView2
    ${If} $0 == 1
      ${Break}
    ${EndIf}
    ${If} ${Silent}
      SetErrorLevel ${EXIT_NO_WEBVIEW2}
      Quit
    ${EndIf}
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${PRODUCT} needs the Microsoft Edge WebView2 Runtime, and it is not installed on this computer. It is part of Windows 11 and of up-to-date Windows 10.$\r$\n$\r$\nInstall it from ${WEBVIEW2_URL} (or ask your IT), then click Retry.$\r$\nCancel stops the installation." /SD IDCANCEL IDRETRY again
      SetErrorLevel ${EXIT_NO_WEBVIEW2}
      Quit
    again:
  ${Loop}
FunctionEnd

; ---------------------------------------------------------------------------------------------
; Install

; Removes the old executable before the new one is copied: an updating app is still exiting
; when the installer starts, so wait for it a little.
Function ReplaceExecutable
  StrCpy $1 0
  ${Do}
    ClearErrors
    ${IfNot} ${FileExists} "$INSTDIR\${EXE}"
      Return
    ${EndIf}
    Delete "$INSTDIR\${EXE}"
    ${IfNot} ${Errors}
      Return
    ${EndIf}
    IntOp $1 $1 + 1
    ${If} $1 >= 20
      ${If} ${Silent}
        SetErrorLevel ${EXIT_IN_USE}
        Quit
      ${EndIf}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${PRODUCT} is running. Close it, then click Retry." /SD IDCANCEL IDRETRY retry
        SetErrorLevel ${EXIT_IN_USE}
        Quit
      retry:
      StrCpy $1 0
    ${EndIf}
    Sleep 250
  ${Loop}
FunctionEnd

Section "Garage Inbox" SecApp
  SectionIn RO
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  Call ReplaceExecutable
  File "${STAGE}/${EXE}"
!ifdef LOADER_DLL
  File "${STAGE}/WebView2Loader.dll"
!else
  ; Left by an earlier install of a GNU build, which this exe does not load.
  Delete "$INSTDIR\WebView2Loader.dll"
!endif
  File "${STAGE}/${APP_ICON}"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  ; The garage-inbox:// scheme, as tauri-plugin-deep-link writes it.
  WriteRegStr HKCU "${SCHEME_KEY}" "" "URL:${IDENTIFIER} protocol"
  WriteRegStr HKCU "${SCHEME_KEY}" "URL Protocol" ""
  WriteRegStr HKCU "${SCHEME_KEY}\DefaultIcon" "" "$INSTDIR\${EXE},0"
  WriteRegStr HKCU "${SCHEME_KEY}\shell\open\command" "" '"$INSTDIR\${EXE}" "%1"'

  ; The AppUserModelID toasts are sent under (src-tauri/src/app_id.rs writes the same).
  WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\${APP_ICON}"

  ; Start menu: not with /NS; with /UPDATE only if the previous install's shortcut is still there.
  ${If} $NoShortcuts == 0
    ${If} $Update == 0
    ${OrIf} ${FileExists} "${SHORTCUT}"
      CreateShortCut "${SHORTCUT}" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
    ${EndIf}
  ${EndIf}

  ; "Installed apps".
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${EXE},0"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Function .onInstSuccess
  ; The updater's /R: start the app again, with the arguments it was running with.
  ${If} $Restart == 1
    ${If} $Passive == 1
    ${OrIf} ${Silent}
      Exec '"$INSTDIR\${EXE}" $AppArgs'
    ${EndIf}
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------------------------------------
; Uninstall

Section "un.Garage Inbox" UnSecApp
  SectionIn RO
  SetShellVarContext current
  Delete "$INSTDIR\${EXE}"
  ; Whichever build was installed (only the GNU one ships it).
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\${APP_ICON}"
  Delete "$INSTDIR\${UNINSTALLER}"
  ; Not /r: the folder may have been chosen by hand, and only our files are removed.
  RMDir "$INSTDIR"
  Delete "${SHORTCUT}"

  ; The scheme only while it still opens this install (another copy may have taken it over).
  ReadRegStr $0 HKCU "${SCHEME_KEY}\shell\open\command" ""
  ${If} $0 == '"$INSTDIR\${EXE}" "%1"'
    DeleteRegKey HKCU "${SCHEME_KEY}"
  ${EndIf}
  DeleteRegKey HKCU "${AUMID_KEY}"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd

Section /o "un.Delete app data" UnSecData
  SetShellVarContext current
  ; The app's files (session.json, the offline cache, window-state.json): the `directories`
  ; crate's data folder for ("app", "garageinbox", "Garage Inbox").
  RMDir /r "$APPDATA\garageinbox\${PRODUCT}"
  RMDir "$APPDATA\garageinbox"
  ; The web view's data: Tauri keeps WebView2's profile under the app identifier.
  RMDir /r "$LOCALAPPDATA\${IDENTIFIER}"
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecApp} "The program, its Start-menu shortcut and its registration."
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecData} "Also delete your settings, the offline cache and the web view's data. The sign-in stays in Windows Credential Manager until you remove it there."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

Function un.onInit
  ${GetParameters} $0
  StrCpy $0 " $0 "
  Push $0
  Push " /DELETEAPPDATA "
  Call un.IndexOf
  Pop $1
  ${If} $1 >= 0
    !insertmacro SelectSection ${UnSecData}
  ${EndIf}
FunctionEnd
