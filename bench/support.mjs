// Helpers shared by the on-demand scripts of bench/ (run.mjs, soak.mjs).
import * as net from "node:net"

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A loopback port nobody listens on right now. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
