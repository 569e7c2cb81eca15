#!/bin/sh
# Brings up eth0 with slirp's addresses (override: rvkvm.ip=A/N rvkvm.gw=G), fetches
# http://<gw>:<rvkvm.port>/<rvkvm.file> when rvkvm.port= is given and prints NET-FETCH <sha256>,
# starts httpd on port 8080 serving /www (index.html holds RVKVM-HTTPD-OK), prints NET-READY,
# then sleeps until the VM is killed.
set -e
. /tests/lib.sh
ip=$(param rvkvm.ip || echo 10.0.2.15/24)
gw=$(param rvkvm.gw || echo 10.0.2.2)
wait_for /sys/class/net/eth0
ip link set eth0 up
ip addr add "$ip" dev eth0
ip route add default via "$gw"
if port=$(param rvkvm.port); then
  file=$(param rvkvm.file || echo)
  wget -q -O /tmp/fetched "http://$gw:$port/$file"
  echo "NET-FETCH $(sha256sum </tmp/fetched | cut -d' ' -f1) $(wc -c </tmp/fetched)"
fi
httpd -p 8080 -h /www
echo "NET-READY"
while :; do sleep 3600; done
