# The routers of the routed lab (docker-compose.yml): FRR from Debian (bookworm: 8.4, as on
# the machines that run the namespace twin). Each router mounts its frr.conf from config/lab.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends frr iproute2 nftables \
 && rm -rf /var/lib/apt/lists/*
COPY docker/lab-net.sh docker/frr-start.sh /usr/local/bin/
ENTRYPOINT ["lab-net.sh"]
CMD ["frr-start.sh"]
