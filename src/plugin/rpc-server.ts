/**
 * The gRPC server under the plugin, behind one small interface so that the
 * transport can be chosen by measurement: @grpc/grpc-js's Server, or
 * h2-server.ts written directly on node:http2 (the default: under Vault's
 * load it spends less CPU per call, in the plugin and in Vault; see the
 * bench layer "vault"). TRANSIT_TS_GRPC_SERVER=grpc-js selects grpc-js.
 */
import * as grpc from "@grpc/grpc-js";
import { CHANNEL_OPTIONS } from "./broker.ts";

export interface ServerTls {
  /** The host's certificate: the only client certificate accepted. */
  rootPem: string;
  certPem: string;
  keyPem: string;
}

export interface RpcServer {
  addService(service: grpc.ServiceDefinition, implementation: object): void;
  /** Listens on 127.0.0.1:port (0: any) with mutual TLS; resolves to the port. */
  listen(port: number, tls: ServerTls): Promise<number>;
  /** Refuses new calls, lets calls in flight answer, then calls done. */
  tryShutdown(done: () => void): void;
  forceShutdown(): void;
}

export type ServerTransport = "h2" | "grpc-js";

export function transportFromEnv(value: string | undefined): ServerTransport {
  return value === "grpc-js" ? "grpc-js" : "h2";
}

/**
 * grpc-js server options on the request path: channelz keeps per-call counters and trace events that
 * nothing reads in a plugin.
 */
const SERVER_OPTIONS: grpc.ServerOptions = { "grpc.enable_channelz": 0 };

export class GrpcJsServer implements RpcServer {
  private readonly server = new grpc.Server({ ...CHANNEL_OPTIONS, ...SERVER_OPTIONS });

  addService(service: grpc.ServiceDefinition, implementation: object): void {
    this.server.addService(service, implementation as grpc.UntypedServiceImplementation);
  }

  listen(port: number, tls: ServerTls): Promise<number> {
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(tls.rootPem),
      [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }],
      true,
    );
    return new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`127.0.0.1:${port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  tryShutdown(done: () => void): void {
    this.server.tryShutdown(() => done());
  }

  forceShutdown(): void {
    this.server.forceShutdown();
  }
}
