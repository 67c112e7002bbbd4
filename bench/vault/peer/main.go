// Command peer is the Go plugin peer of the "through a Vault-like host" bench layer: the least a Go transit
// plugin does per request, served by HashiCorp's go-plugin as Vault's SDK serves a backend plugin
// (sdk/plugin/serve.go: Vault's handshake, gRPC with no message size limit, auto-mTLS from go-plugin,
// app protocol 5 with PluginMultiplexing). Per mount (multiplex_id, looked up under a read lock as the SDK's
// multiplexed server does) it keeps a key map under a read lock. It does not dial the brokered Storage in
// Setup: go-plugin 1.0.1's plugin-side broker Dial under auto-mTLS sets no server name and fails ("valid for
// localhost, not unused"; later go-plugin sets it), and storage is not on the encrypt path. Per encrypt: JSON data in, base64 decode, AES-256-GCM with a fresh cipher
// per request (as keysutil) and a random 96-bit nonce, "vault:v1:" + base64, JSON reply; batch_input too.
// It is not Vault's transit: no policy cache, no locks per key, no storage reads on the request path.
//
// Built by bench/vault/build.sh against Debian's go-plugin and grpc-go (GOPATH mode, nothing fetched).
package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"gohostgen/pb"
	"gohostgen/pluginutil"
)

var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  4,
	MagicCookieKey:   "VAULT_BACKEND_PLUGIN",
	MagicCookieValue: "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
}

type mount struct {
	mu   sync.RWMutex
	keys map[string][]byte
}

type backend struct {
	pb.UnimplementedBackendServer
	mu     sync.RWMutex
	mounts map[string]*mount
}

func (b *backend) mountOf(ctx context.Context) (*mount, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get("multiplex_id")
	if len(ids) != 1 {
		return nil, errors.New("no multiplex_id")
	}
	b.mu.RLock()
	m := b.mounts[ids[0]]
	b.mu.RUnlock()
	if m == nil {
		return nil, errors.New("no backend for multiplex_id")
	}
	return m, nil
}

func (b *backend) Setup(ctx context.Context, args *pb.SetupArgs) (*pb.SetupReply, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get("multiplex_id")
	if len(ids) != 1 {
		return &pb.SetupReply{Err: "no multiplex_id"}, nil
	}
	b.mu.Lock()
	b.mounts[ids[0]] = &mount{keys: map[string][]byte{}}
	b.mu.Unlock()
	return &pb.SetupReply{}, nil
}

func (b *backend) Initialize(context.Context, *pb.InitializeArgs) (*pb.InitializeReply, error) {
	return &pb.InitializeReply{}, nil
}

func (b *backend) Type(context.Context, *pb.Empty) (*pb.TypeReply, error) {
	return &pb.TypeReply{Type: 1}, nil
}

func (b *backend) Cleanup(context.Context, *pb.Empty) (*pb.Empty, error) { return &pb.Empty{}, nil }

func (b *backend) HandleExistenceCheck(ctx context.Context, args *pb.HandleExistenceCheckArgs) (*pb.HandleExistenceCheckReply, error) {
	m, err := b.mountOf(ctx)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(args.Request.GetPath(), "encrypt/")
	if name == args.Request.GetPath() {
		return &pb.HandleExistenceCheckReply{}, nil
	}
	m.mu.RLock()
	_, ok := m.keys[name]
	m.mu.RUnlock()
	return &pb.HandleExistenceCheckReply{CheckFound: true, Exists: ok}, nil
}

type item struct {
	Plaintext string `json:"plaintext"`
}

type encryptData struct {
	Plaintext  string `json:"plaintext"`
	BatchInput []item `json:"batch_input"`
}

type result struct {
	Ciphertext string `json:"ciphertext"`
	KeyVersion int    `json:"key_version"`
}

type batchReply struct {
	BatchResults []result `json:"batch_results"`
}

func seal(key []byte, b64 string) (string, error) {
	plaintext, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	out := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	if _, err := rand.Read(out); err != nil {
		return "", err
	}
	return "vault:v1:" + base64.StdEncoding.EncodeToString(gcm.Seal(out, out, plaintext, nil)), nil
}

func errReply(msg string) *pb.HandleRequestReply {
	return &pb.HandleRequestReply{Err: &pb.ProtoError{ErrType: 1, ErrMsg: msg, ErrCode: 400}}
}

func (b *backend) HandleRequest(ctx context.Context, args *pb.HandleRequestArgs) (*pb.HandleRequestReply, error) {
	m, err := b.mountOf(ctx)
	if err != nil {
		return nil, err
	}
	path := args.Request.GetPath()
	switch {
	case strings.HasPrefix(path, "keys/"):
		name := path[len("keys/"):]
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		m.mu.Lock()
		m.keys[name] = key
		m.mu.Unlock()
		return &pb.HandleRequestReply{}, nil
	case strings.HasPrefix(path, "encrypt/"):
		var data encryptData
		if err := json.Unmarshal([]byte(args.Request.GetData()), &data); err != nil {
			return errReply(err.Error()), nil
		}
		m.mu.RLock()
		key, ok := m.keys[path[len("encrypt/"):]]
		m.mu.RUnlock()
		if !ok {
			return errReply("encryption key not found"), nil
		}
		var out []byte
		if data.BatchInput != nil {
			reply := batchReply{BatchResults: make([]result, len(data.BatchInput))}
			for i, it := range data.BatchInput {
				ct, err := seal(key, it.Plaintext)
				if err != nil {
					return errReply(err.Error()), nil
				}
				reply.BatchResults[i] = result{Ciphertext: ct, KeyVersion: 1}
			}
			out, err = json.Marshal(&reply)
		} else {
			ct, serr := seal(key, data.Plaintext)
			if serr != nil {
				return errReply(serr.Error()), nil
			}
			out, err = json.Marshal(&result{Ciphertext: ct, KeyVersion: 1})
		}
		if err != nil {
			return nil, err
		}
		return &pb.HandleRequestReply{Response: &pb.Response{Data: string(out)}}, nil
	}
	return errReply("unsupported path"), nil
}

type multiplexing struct {
	pluginutil.UnimplementedPluginMultiplexingServer
}

func (multiplexing) MultiplexingSupport(context.Context, *pluginutil.MultiplexingSupportRequest) (*pluginutil.MultiplexingSupportResponse, error) {
	return &pluginutil.MultiplexingSupportResponse{Supported: true}, nil
}

type backendPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (backendPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, &backend{mounts: map[string]*mount{}})
	pluginutil.RegisterPluginMultiplexingServer(s, multiplexing{})
	return nil
}

func (backendPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, errors.New("the peer is a server only")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{5: {"backend": backendPlugin{}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(math.MaxInt32), grpc.MaxSendMsgSize(math.MaxInt32))
			return plugin.DefaultGRPCServer(opts)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: os.Stderr, JSONFormat: true}),
	})
}
