import { createSocket } from "node:dgram";

/**
 * The local address this machine would use to reach `host` (a UDP "connect" sends nothing; it only
 * asks the kernel's routing table). Used to refuse connecting from an address an instance's source-IP
 * list would not accept, before sshd has to.
 */
export function localAddressFor(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    socket.once("error", (e) => {
      socket.close();
      reject(e);
    });
    socket.connect(port, host, () => {
      const { address } = socket.address();
      socket.close();
      resolve(address);
    });
  });
}
