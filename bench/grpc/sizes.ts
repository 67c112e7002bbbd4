/**
 * Wire sizes of one HandleRequest call as the project's own translation
 * builds it: the request the host sends (src/pluginhost/translate.ts) and
 * the reply the plugin sends (src/plugin/translate.ts), protobuf-encoded by
 * the generated code. Layer 3 sizes its echo by them. Loaded as a bundle
 * (bench/lib/bundle.ts) only once those modules exist.
 */
import { HandleRequestArgs, HandleRequestReply } from "../../src/gen/sdk/plugin/pb/backend.ts";
import { logicalResponseToProto } from "../../src/plugin/translate.ts";
import { toProtoRequest } from "../../src/pluginhost/translate.ts";

export function handleRequestSizes(
  req: {
    id: string;
    operation: "update";
    path: string;
    data: Record<string, unknown>;
    mountPoint: string;
    mountType: string;
    headers: Record<string, string[]>;
    clientToken: string;
  },
  replyData: Record<string, unknown>,
): { request: number; reply: number } {
  const request = toProtoRequest(req, { tokenSalt: new Uint8Array(32) });
  const response = logicalResponseToProto({ data: replyData }, req.id);
  return {
    request: HandleRequestArgs.encode({ storageId: 0, request }).finish().length,
    reply: HandleRequestReply.encode({ response }).finish().length,
  };
}
