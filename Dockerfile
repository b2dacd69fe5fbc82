# tlsbench as an image, built from this repository:
#   docker build -t tlsbench:0.1.0 .
#   docker run --rm --network host tlsbench:0.1.0 run example.com:443 -d 10s
#
# Stage 1 builds the package exactly as `npm publish` would (npm pack runs prepack: the
# TypeScript build) and installs that tarball into /opt/tlsbench. The full node image has the
# compilers a native addon would need at install time; the runtime image gets only the result.
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /tmp \
 && npm install --global --prefix /opt/tlsbench --no-audit --no-fund /tmp/tlsbench-*.tgz

# Stage 2: Node 24 on a slim Debian (same release as the build stage, so a compiled addon
# links), the installed package and nothing else. taskset comes with Debian's util-linux.
FROM node:24-bookworm-slim
COPY --from=build /opt/tlsbench /opt/tlsbench
ENV PATH=/opt/tlsbench/bin:$PATH
# The node image's unprivileged user (uid 1000): generated certificates are cached in its home,
# results go to /results (mount a volume there).
USER node
WORKDIR /results
ENTRYPOINT ["tlsbench"]
CMD ["--help"]
