#!/bin/bash
# Issue 17's figure: the disk a desktop's offline files take after a day of demo traffic. A day
# of the demo's customers (0.5 events/s x 86,400 s = 43,200 events; EVENTS=5400 plays an eighth)
# is played at RATE events/s by inbox-sim against a seeded inbox-server, while a headless desktop
# engine (the sync_probe example) is signed in as the front desk and fetches the thumbnails of
# photos as they arrive; then the size of its files folder, and of the server's media folder.
# Needs debug builds: cargo build -p inbox-server -p inbox-sim && cargo build -p inbox-client --example sync_probe
# Run: EVENTS=5400 RATE=24 bash tests/benches/offline_files_day.sh

B=${CARGO_TARGET_DIR:-$(git rev-parse --show-toplevel)/target}/debug
D=$(mktemp -d)
EVENTS=${EVENTS:-43200}; RATE=${RATE:-24}
"$B"/inbox-server seed-demo --database-url sqlite://"$D"/inbox.db > "$D"/seed.json
INBOX_SPOOL_DIR="$D" INBOX_PUBLIC_URL=http://127.0.0.1:18780 INBOX_TWILIO_API_BASE=http://127.0.0.1:18788 \
 INBOX_WHATSAPP_API_BASE=http://127.0.0.1:18788/v23.0 INBOX_WHATSAPP_APP_SECRET=day-secret \
 INBOX_WHATSAPP_VERIFY_TOKEN=day-verify RUST_LOG=warn \
 "$B"/inbox-server serve --listen 127.0.0.1:18780 --database-url sqlite://"$D"/inbox.db > "$D"/server.log 2>&1 &
SERVER=$!
sleep 3
LOGIN=$(curl -s -X POST http://127.0.0.1:18780/api/v1/auth/login -H 'content-type: application/json' -d '{"email":"frontdesk@demo.test","password":"demo-password"}')
TOKEN=$(echo "$LOGIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
UID_=$(echo "$LOGIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')
RUST_LOG=warn "$B"/examples/sync_probe http://127.0.0.1:18780 "$TOKEN" "$UID_" "$D"/cache.sqlite > "$D"/probe.log 2>&1 &
PROBE=$!
sleep 3
START=$(date +%s)
RUST_LOG=warn "$B"/inbox-sim --server http://127.0.0.1:18780 --listen 127.0.0.1:18788 --summary "$D"/seed.json \
  --app-secret day-secret --rate "$RATE" --events "$EVENTS" --min-delay-ms 50 --max-delay-ms 200 > "$D"/sim.log 2>&1 &
SIM=$!
# The simulator waits for its last calls; the events are played after EVENTS/RATE seconds.
sleep $(( EVENTS / ${RATE%.*} + 30 ))
kill $SIM 2>/dev/null
echo "sim done in $(( $(date +%s) - START )) s"
kill $PROBE $SERVER
echo "files: $(find "$D"/cache.files -type f | wc -l) files, $(du -sb "$D"/cache.files | cut -f1) bytes; cache db $(du -sb "$D"/cache.sqlite* | awk '{s+=$1} END {print s}') bytes"
echo "server media: $(du -sb "$D"/media 2>/dev/null | cut -f1) bytes"
sqlite3 "$D"/inbox.db "select status, count(*) from attachments group by status; select content_type, count(*) from attachments group by content_type;" 2>/dev/null || true
