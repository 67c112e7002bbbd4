import * as grpc from "@grpc/grpc-js";

/**
 * A gRPC service with one unary method that answers with the bytes it got,
 * defined without a .proto: messages are raw bytes, so the echo costs only
 * what grpc-js, HTTP/2 and TLS cost for a message of that size.
 */
export const ECHO_SERVICE: grpc.ServiceDefinition = {
  Echo: {
    path: "/bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
    originalName: "echo",
  },
};

export const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, "Echo");

export type EchoClientType = InstanceType<typeof EchoClient> & {
  Echo(req: Buffer, cb: (err: grpc.ServiceError | null, res: Buffer) => void): grpc.ClientUnaryCall;
};
