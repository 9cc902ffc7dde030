# Authenticode for the release workflow's Windows files (issue 14, DSK-1; docs/signing.md).
#
#   sign.ps1 -TauriConfig <file.json>   writes Tauri's `bundle.windows` signing settings, for
#                                       `tauri build --config <file.json>` (the MSI and the exe in it)
#   sign.ps1 <file> [<file> ...]        signs files the same way itself: our installer's
#                                       garage-inbox.exe before makensis packs it, then the setup.exe
#
# Both read the environment:
#   WINDOWS_SIGN_COMMAND   a command that signs one file, `%1` standing for the file (a signing
#                          service's or an HSM's client). Split at spaces, as Tauri splits its
#                          `signCommand`; it must timestamp by itself.
#   otherwise WINDOWS_CERTIFICATE (a .pfx, base64) and WINDOWS_CERTIFICATE_PASSWORD: imported into
#                          the user's certificate store and used by signtool through its
#                          thumbprint: SHA-256, an RFC 3161 timestamp from WINDOWS_TIMESTAMP_URL.
# Each file signed here is checked afterwards: a signature present and intact; a warning when
# Windows does not trust its chain on this runner (a company CA) or it carries no timestamp.
[CmdletBinding(PositionalBinding = $false)]
param(
  [string] $TauriConfig,
  [Parameter(Position = 0, ValueFromRemainingArguments = $true)] [string[]] $Files = @()
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Product = 'Garage Inbox'
$Digest = 'sha256'
$TimestampUrl = if ($env:WINDOWS_TIMESTAMP_URL) { $env:WINDOWS_TIMESTAMP_URL } else { 'http://timestamp.digicert.com' }

# The .pfx imported into Cert:\CurrentUser\My (again, harmlessly, on a second call); returns the
# thumbprint of its certificate with the private key (a .pfx may carry its CA chain as well).
function Import-SigningCertificate {
  if (-not $env:WINDOWS_CERTIFICATE -or -not $env:WINDOWS_CERTIFICATE_PASSWORD) {
    throw 'set WINDOWS_SIGN_COMMAND, or WINDOWS_CERTIFICATE and WINDOWS_CERTIFICATE_PASSWORD (docs/signing.md)'
  }
  $pfx = Join-Path ([IO.Path]::GetTempPath()) "codesign-$PID.pfx"
  try {
    [IO.File]::WriteAllBytes($pfx, [Convert]::FromBase64String($env:WINDOWS_CERTIFICATE))
    $password = ConvertTo-SecureString $env:WINDOWS_CERTIFICATE_PASSWORD -AsPlainText -Force
    $imported = @(Import-PfxCertificate -FilePath $pfx -CertStoreLocation Cert:\CurrentUser\My -Password $password)
  } finally {
    Remove-Item -LiteralPath $pfx -Force -ErrorAction SilentlyContinue
  }
  $signing = @($imported | Where-Object { $_.HasPrivateKey })
  if ($signing.Count -ne 1) {
    throw "WINDOWS_CERTIFICATE holds $($signing.Count) certificates with a private key; expected one"
  }
  Write-Host "signing certificate: $($signing[0].Subject) ($($signing[0].Thumbprint))"
  $signing[0].Thumbprint
}

# signtool.exe of the newest Windows 10/11 SDK (GitHub's Windows runners have one).
function Find-SignTool {
  $bin = Join-Path ${env:ProgramFiles(x86)} 'Windows Kits\10\bin'
  $sdk = Get-ChildItem -LiteralPath $bin -Directory -ErrorAction SilentlyContinue |
    Where-Object { $_.Name -match '^\d+\.\d+\.\d+\.\d+$' -and (Test-Path -LiteralPath (Join-Path $_.FullName 'x64\signtool.exe')) } |
    Sort-Object { [version] $_.Name } -Descending |
    Select-Object -First 1
  if (-not $sdk) { throw "no signtool.exe under $bin\<version>\x64 (the Windows SDK)" }
  Join-Path $sdk.FullName 'x64\signtool.exe'
}

# The signing command's words, `%1` replaced by the file.
function Split-SignCommand([string] $File) {
  $words = @($env:WINDOWS_SIGN_COMMAND.Split(' ', [StringSplitOptions]::RemoveEmptyEntries))
  if ($words -notcontains '%1') { throw 'WINDOWS_SIGN_COMMAND has no %1 for the file to sign' }
  , @($words | ForEach-Object { if ($_ -eq '%1') { $File } else { $_ } })
}

function Test-Signature([string] $File) {
  $signature = Get-AuthenticodeSignature -LiteralPath $File
  $status = $signature.Status.ToString()
  if (-not $signature.SignerCertificate -or $status -in @('NotSigned', 'HashMismatch', 'NotSupportedFileFormat', 'Incompatible')) {
    throw "$File is not signed after signing: $status $($signature.StatusMessage)"
  }
  Write-Host "$File`: $status, signed by $($signature.SignerCertificate.Subject)"
  if ($status -ne 'Valid') {
    Write-Host "::warning::$([IO.Path]::GetFileName($File)): $($signature.StatusMessage) (a certificate this runner does not trust?)"
  }
  if (-not $signature.TimeStamperCertificate) {
    Write-Host "::warning::$([IO.Path]::GetFileName($File)) carries no timestamp: its signature ends with the certificate"
  }
}

if ($TauriConfig) {
  if ($env:WINDOWS_SIGN_COMMAND) {
    $windows = @{ signCommand = $env:WINDOWS_SIGN_COMMAND }
  } else {
    $windows = @{
      certificateThumbprint = Import-SigningCertificate
      digestAlgorithm = $Digest
      timestampUrl = $TimestampUrl
      # RFC 3161 (signtool /tr /td), not the legacy Authenticode timestamp (/t).
      tsp = $true
    }
  }
  @{ bundle = @{ windows = $windows } } | ConvertTo-Json -Depth 5 |
    Set-Content -Encoding utf8NoBOM -LiteralPath $TauriConfig
  Write-Host "wrote $TauriConfig"
}

if ($Files.Count -gt 0) {
  if (-not $env:WINDOWS_SIGN_COMMAND) {
    $thumbprint = Import-SigningCertificate
    $signtool = Find-SignTool
  }
  foreach ($file in $Files) {
    $path = (Resolve-Path -LiteralPath $file).Path
    Write-Host "signing $path"
    if ($env:WINDOWS_SIGN_COMMAND) {
      $words = Split-SignCommand $path
      $arguments = @($words | Select-Object -Skip 1)
      & $words[0] @arguments
    } else {
      & $signtool sign /fd $Digest /sha1 $thumbprint /d $Product /tr $TimestampUrl /td $Digest $path
    }
    if ($LASTEXITCODE -ne 0) { throw "signing $path failed (exit code $LASTEXITCODE)" }
    Test-Signature $path
  }
}

if (-not $TauriConfig -and $Files.Count -eq 0) {
  throw 'usage: sign.ps1 -TauriConfig <file.json> | sign.ps1 <file> ...'
}
