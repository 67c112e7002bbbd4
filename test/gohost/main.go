// A Vault-like host for the plugin executable, built from HashiCorp's go-plugin (the library Vault uses to
// start plugins; Debian's golang-github-hashicorp-go-plugin-dev) and grpc-go. It does what Vault does with an
// external secrets-engine plugin (hashicorp/vault sdk/plugin/grpc_backend_client.go, vault/plugin_catalog.go):
// Vault's handshake config and auto-mTLS, health check, the multiplexing probe and multiplex_id metadata,
// Storage and SystemView served to the plugin through the go-plugin broker, then Setup, Initialize, Type,
// SpecialPaths, PluginVersion, HandleExistenceCheck, HandleRequest, InvalidateKey, Cleanup and Shutdown.
//
// Every check prints "PASS <name>" or "FAIL <name>: <why>"; the exit code is 0 only when all passed.
// The Go code for Vault's messages is generated from this repository's proto/ at test time (see gohost.test.ts);
// it is built in GOPATH mode against Debian's tree, with no module proxy.
//
// Usage: gohost -plugin dist/vault-plugin-secrets-transit-ts [-v]
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"gohostgen/logical"
	"gohostgen/pb"
	"gohostgen/pluginutil"
)

// Vault's handshake (hashicorp/vault sdk/plugin/serve.go).
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  4,
	MagicCookieKey:   "VAULT_BACKEND_PLUGIN",
	MagicCookieValue: "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
}

const multiplexingCtxKey = "multiplex_id"

var failures int

func pass(name string, format string, args ...interface{}) {
	detail := ""
	if format != "" {
		detail = " (" + fmt.Sprintf(format, args...) + ")"
	}
	fmt.Printf("PASS %s%s\n", name, detail)
}

func fail(name string, format string, args ...interface{}) {
	failures++
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, args...))
}

// fatal stops the run: later steps depend on this one.
func fatal(name string, format string, args ...interface{}) {
	fail(name, format, args...)
	fmt.Printf("ABORT after %d failure(s)\n", failures)
	cleanupAndExit(1)
}

var atExit []func()

func cleanupAndExit(code int) {
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	os.Exit(code)
}

// ---- go-plugin wiring: the "backend" plugin, as Vault's GRPCBackendPlugin ----

type backendPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

type backendClient struct {
	broker *plugin.GRPCBroker
	conn   *grpc.ClientConn
}

func (backendPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the host does not serve the backend")
}

func (backendPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &backendClient{broker: broker, conn: conn}, nil
}

// muxConn adds Vault's multiplex_id metadata to every call, as vault/plugin_catalog.go's pluginClientConn does.
type muxConn struct {
	*grpc.ClientConn
	id string
}

func (c *muxConn) Invoke(ctx context.Context, method string, args, reply interface{}, opts ...grpc.CallOption) error {
	return c.ClientConn.Invoke(metadata.NewOutgoingContext(ctx, metadata.Pairs(multiplexingCtxKey, c.id)), method, args, reply, opts...)
}

func (c *muxConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.ClientConn.NewStream(metadata.NewOutgoingContext(ctx, metadata.Pairs(multiplexingCtxKey, c.id)), desc, method, opts...)
}

// ---- what Vault serves to the plugin through the broker ----

// memStorage is the mount's storage view: a map in memory, with failure injection for Put.
type memStorage struct {
	pb.UnimplementedStorageServer
	mu      sync.Mutex
	data    map[string][]byte
	failPut string
	puts    int
}

func (s *memStorage) List(_ context.Context, args *pb.StorageListArgs) (*pb.StorageListReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var keys []string
	for k := range s.data {
		if !strings.HasPrefix(k, args.Prefix) {
			continue
		}
		rest := k[len(args.Prefix):]
		if i := strings.Index(rest, "/"); i >= 0 {
			rest = rest[:i+1]
		}
		if !seen[rest] {
			seen[rest] = true
			keys = append(keys, rest)
		}
	}
	sort.Strings(keys)
	return &pb.StorageListReply{Keys: keys}, nil
}

func (s *memStorage) Get(_ context.Context, args *pb.StorageGetArgs) (*pb.StorageGetReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[args.Key]
	if !ok {
		return &pb.StorageGetReply{}, nil
	}
	return &pb.StorageGetReply{Entry: &pb.StorageEntry{Key: args.Key, Value: append([]byte(nil), v...)}}, nil
}

func (s *memStorage) Put(_ context.Context, args *pb.StoragePutArgs) (*pb.StoragePutReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if args.Entry == nil {
		return &pb.StoragePutReply{Err: "nil entry"}, nil
	}
	if s.failPut != "" {
		return &pb.StoragePutReply{Err: s.failPut}, nil
	}
	s.puts++
	s.data[args.Entry.Key] = append([]byte(nil), args.Entry.Value...)
	return &pb.StoragePutReply{}, nil
}

func (s *memStorage) Delete(_ context.Context, args *pb.StorageDeleteArgs) (*pb.StorageDeleteReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, args.Key)
	return &pb.StorageDeleteReply{}, nil
}

func (s *memStorage) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return append([]byte(nil), v...), ok
}

func (s *memStorage) set(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = append([]byte(nil), value...)
}

func (s *memStorage) setFailPut(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPut = msg
}

// systemView answers as a single-node Vault with the default mount tuning, or with the replication state
// (consts.ReplicationState bits) and LocalMount a cluster test gives it.
type systemView struct {
	pb.UnimplementedSystemViewServer
	state int32
	local bool
}

func (systemView) DefaultLeaseTTL(context.Context, *pb.Empty) (*pb.TTLReply, error) {
	return &pb.TTLReply{TTL: int64(768 * time.Hour)}, nil
}
func (systemView) MaxLeaseTTL(context.Context, *pb.Empty) (*pb.TTLReply, error) {
	return &pb.TTLReply{TTL: int64(768 * time.Hour)}, nil
}
func (systemView) Tainted(context.Context, *pb.Empty) (*pb.TaintedReply, error) {
	return &pb.TaintedReply{}, nil
}
func (systemView) CachingDisabled(context.Context, *pb.Empty) (*pb.CachingDisabledReply, error) {
	return &pb.CachingDisabledReply{}, nil
}
func (v systemView) ReplicationState(context.Context, *pb.Empty) (*pb.ReplicationStateReply, error) {
	return &pb.ReplicationStateReply{State: v.state}, nil
}
func (systemView) MlockEnabled(context.Context, *pb.Empty) (*pb.MlockEnabledReply, error) {
	return &pb.MlockEnabledReply{}, nil
}
func (v systemView) LocalMount(context.Context, *pb.Empty) (*pb.LocalMountReply, error) {
	return &pb.LocalMountReply{Local: v.local}, nil
}
func (systemView) PluginEnv(context.Context, *pb.Empty) (*pb.PluginEnvReply, error) {
	return &pb.PluginEnvReply{PluginEnvironment: &logical.PluginEnvironment{VaultVersion: "1.19.0"}}, nil
}

type events struct {
	pb.UnimplementedEventsServer
}

func (events) SendEvent(context.Context, *pb.SendEventRequest) (*pb.Empty, error) {
	return &pb.Empty{}, nil
}

// ---- requests ----

type host struct {
	backend pb.BackendClient
	storage *memStorage
}

func (h *host) request(op, path string, data map[string]interface{}) *pb.Request {
	raw := ""
	if data != nil {
		b, _ := json.Marshal(data)
		raw = string(b)
	}
	return &pb.Request{
		Id:          fmt.Sprintf("req-%d", time.Now().UnixNano()),
		Operation:   op,
		Path:        path,
		Data:        raw,
		MountPoint:  "transit-ts/",
		MountType:   "transit-ts",
		ClientToken: "hvs.gohost-test-token",
		DisplayName: "token",
		Connection:  &pb.Connection{RemoteAddr: "127.0.0.1"},
	}
}

// call sends a request and returns the response data (nil when the response or its data is empty).
func (h *host) call(op, path string, data map[string]interface{}) (map[string]interface{}, *pb.ProtoError, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := h.backend.HandleRequest(ctx, &pb.HandleRequestArgs{Request: h.request(op, path, data)})
	if err != nil {
		return nil, nil, err
	}
	var out map[string]interface{}
	if reply.Response != nil && reply.Response.Data != "" {
		if err := json.Unmarshal([]byte(reply.Response.Data), &out); err != nil {
			return nil, reply.Err, fmt.Errorf("response data is not JSON: %v", err)
		}
	}
	return out, reply.Err, nil
}

// ok runs a request that must succeed.
func (h *host) ok(name, op, path string, data map[string]interface{}) map[string]interface{} {
	out, perr, err := h.call(op, path, data)
	if err != nil {
		fatal(name, "gRPC error: %v", err)
	}
	if perr != nil {
		fatal(name, "error reply: type %d code %d %q (data %v)", perr.ErrType, perr.ErrCode, perr.ErrMsg, out)
	}
	return out
}

func str(m map[string]interface{}, key string) string {
	if m == nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

func num(m map[string]interface{}, key string) float64 {
	if m == nil {
		return -1
	}
	switch v := m[key].(type) {
	case float64:
		return v
	case string:
		var f float64
		if _, err := fmt.Sscan(v, &f); err == nil {
			return f
		}
	}
	return -1
}

// ---- mTLS refusals: a client without the host's certificate must not get an answer ----

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"HashiCorp"}},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// foreignHealthCheck dials the plugin's address with the given TLS config and asks for health.
func foreignHealthCheck(addr net.Addr, conf *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr.String(),
		grpc.WithTransportCredentials(credentials.NewTLS(conf)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, addr.Network(), addr.String())
		}))
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "plugin"})
	return err
}

func main() {
	pluginPath := flag.String("plugin", "dist/vault-plugin-secrets-transit-ts", "the plugin executable")
	verbose := flag.Bool("v", false, "print go-plugin's and the plugin's log")
	secret := flag.String("plaintext", "attack at dawn, through go-plugin", "the plaintext encrypted and decrypted")
	hold := flag.Bool("hold", false, "after the health check print PLUGIN_PID <pid> and wait to be killed (parent-death test)")
	flag.Parse()

	// go-plugin's log, with the plugin's own stderr lines relayed into it, is kept and printed on failure.
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	logWriter := writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		if *verbose {
			os.Stderr.Write(p)
		}
		return logBuf.Write(p)
	})
	logger := hclog.New(&hclog.LoggerOptions{Name: "gohost", Level: hclog.Trace, Output: logWriter, JSONFormat: true})
	logText := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return logBuf.String()
	}
	atExit = append(atExit, func() {
		if failures > 0 && !*verbose {
			fmt.Fprintf(os.Stderr, "---- go-plugin log ----\n%s", logText())
		}
	})

	if !*hold {
		registerProbe(*pluginPath, logger.Named("register"), logText)
	}

	start := time.Now()
	client := newClient(*pluginPath, logger)
	killed := false
	atExit = append(atExit, func() {
		if !killed {
			client.Kill()
		}
	})

	rpcClient, err := client.Client()
	if err != nil {
		fatal("handshake", "%v", err)
	}
	grpcClient, ok := rpcClient.(*plugin.GRPCClient)
	if !ok {
		fatal("handshake", "not a gRPC client: %T", rpcClient)
	}
	version := client.NegotiatedVersion()
	if version != 5 {
		fail("handshake", "negotiated app protocol version %d, want 5", version)
	} else {
		pass("handshake", "auto-mTLS, app protocol %d, %v after start", version, time.Since(start).Round(time.Millisecond))
	}
	reattach := client.ReattachConfig()
	pid := reattach.Pid

	if err := grpcClient.Ping(); err != nil {
		fatal("health", "grpc.health.v1 Check(plugin): %v", err)
	}
	pass("health", "plugin SERVING")
	if *hold {
		// The test kills this host with SIGKILL, as a crashing Vault dies, and watches the plugin exit on its own.
		fmt.Printf("PLUGIN_PID %d\n", pid)
		select {}
	}

	// Without a client certificate, or with one the host did not send in PLUGIN_CLIENT_CERT: no answer.
	if err := foreignHealthCheck(reattach.Addr, &tls.Config{InsecureSkipVerify: true}); err == nil {
		fail("mtls-no-client-cert", "the plugin answered a client without a certificate")
	} else {
		pass("mtls-no-client-cert", "refused: %s", oneLine(err))
	}
	if other, err := selfSignedCert(); err != nil {
		fail("mtls-other-cert", "making a certificate: %v", err)
	} else if err := foreignHealthCheck(reattach.Addr, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{other}}); err == nil {
		fail("mtls-other-cert", "the plugin answered a client with a certificate it was not given")
	} else {
		pass("mtls-other-cert", "refused: %s", oneLine(err))
	}

	ctx := context.Background()
	muxed, err := pluginutil.NewPluginMultiplexingClient(grpcClient.Conn).MultiplexingSupport(ctx, &pluginutil.MultiplexingSupportRequest{})
	switch {
	case err != nil && status.Code(err) == codes.Unimplemented:
		fail("multiplexing", "PluginMultiplexing is not served on app protocol %d", version)
	case err != nil:
		fatal("multiplexing", "%v", err)
	case !muxed.Supported:
		fail("multiplexing", "supported = false on app protocol %d", version)
	default:
		pass("multiplexing", "supported")
	}

	raw, err := rpcClient.Dispense("backend")
	if err != nil {
		fatal("dispense", "%v", err)
	}
	bc := raw.(*backendClient)
	// Vault sends every Backend and PluginVersion call with this mount's multiplex_id.
	conn := &muxConn{ClientConn: bc.conn, id: "gohostMnt1"}
	h := &host{backend: pb.NewBackendClient(conn), storage: &memStorage{data: map[string][]byte{}}}

	// Setup: Storage and SystemView (and Events) are served on a brokered connection before the call.
	serverCh := make(chan *grpc.Server, 1)
	brokerID := bc.broker.NextId()
	go bc.broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterStorageServer(s, h.storage)
		pb.RegisterSystemViewServer(s, &systemView{})
		pb.RegisterEventsServer(s, &events{})
		serverCh <- s
		return s
	})
	setupReply, err := h.backend.Setup(ctx, &pb.SetupArgs{
		BrokerId:    brokerID,
		Config:      map[string]string{"plugin_name": "transit-ts", "plugin_type": "secret", "plugin_version": "v0.1.0"},
		BackendUUID: "9a4a0a8e-6c8b-4c7e-9f5f-7c2f1a2b3c4d",
	})
	if err != nil {
		fatal("setup", "%v", err)
	}
	if setupReply.Err != "" {
		fatal("setup", "error reply %q", setupReply.Err)
	}
	pass("setup", "broker id %d serves Storage, SystemView, Events", brokerID)

	initReply, err := h.backend.Initialize(ctx, &pb.InitializeArgs{})
	if err != nil && status.Code(err) != codes.Unimplemented {
		fatal("initialize", "%v", err)
	} else if err == nil && initReply.Err != nil {
		fatal("initialize", "error reply %v", initReply.Err)
	}
	pass("initialize", "")

	typeReply, err := h.backend.Type(ctx, &pb.Empty{})
	if err != nil {
		fail("type", "%v", err)
	} else if typeReply.Type != 1 {
		fail("type", "type %d, want 1 (logical: a secrets engine)", typeReply.Type)
	} else {
		pass("type", "1 (secrets engine)")
	}

	paths, err := h.backend.SpecialPaths(ctx, &pb.Empty{})
	if err != nil {
		fail("special-paths", "%v", err)
	} else if paths.Paths == nil || !contains(paths.Paths.SealWrapStorage, "policy/") || !contains(paths.Paths.SealWrapStorage, "archive/") {
		fail("special-paths", "seal_wrap_storage %v, want policy/ and archive/ (as Vault's transit)", paths.GetPaths().GetSealWrapStorage())
	} else {
		pass("special-paths", "seal_wrap_storage %v", paths.Paths.SealWrapStorage)
	}

	ver, err := logical.NewPluginVersionClient(conn).Version(ctx, &logical.Empty{})
	switch {
	case err != nil && status.Code(err) == codes.Unimplemented:
		fail("plugin-version", "PluginVersion is not served")
	case err != nil:
		fail("plugin-version", "%v", err)
	case !strings.HasPrefix(ver.PluginVersion, "v"):
		fail("plugin-version", "%q is not a v-prefixed semantic version", ver.PluginVersion)
	default:
		pass("plugin-version", "%s", ver.PluginVersion)
	}

	// As in Vault's transit, encrypt/<name> has an existence check (the key exists or not: update or
	// create-with-upsert) and keys/<name> has none (Vault then sends "update").
	existence := func(name, path string, wantFound, wantExists bool) {
		reply, err := h.backend.HandleExistenceCheck(ctx, &pb.HandleExistenceCheckArgs{Request: h.request("create", path, nil)})
		switch {
		case err != nil:
			fail(name, "%v", err)
		case reply.Err != nil:
			fail(name, "error reply %v", reply.Err)
		case reply.CheckFound != wantFound:
			fail(name, "%s: check_found %v, want %v", path, reply.CheckFound, wantFound)
		case reply.Exists != wantExists:
			fail(name, "%s: exists %v, want %v", path, reply.Exists, wantExists)
		default:
			pass(name, "%s: check_found=%v exists=%v", path, reply.CheckFound, reply.Exists)
		}
	}
	existence("existence-no-check", "keys/gohost", false, false)
	existence("existence-before-create", "encrypt/gohost", true, false)

	h.ok("create-key", "update", "keys/gohost", map[string]interface{}{"type": "aes256-gcm96"})
	if _, stored := h.storage.get("policy/gohost"); !stored {
		fail("create-key", "no policy/gohost in the host's storage: the keyring must live in Vault's storage")
	} else {
		pass("create-key", "keyring stored at policy/gohost through the broker")
	}
	existence("existence-after-create", "encrypt/gohost", true, true)

	plaintext := base64.StdEncoding.EncodeToString([]byte(*secret))
	enc := h.ok("encrypt", "update", "encrypt/gohost", map[string]interface{}{"plaintext": plaintext})
	ct1 := str(enc, "ciphertext")
	if !strings.HasPrefix(ct1, "vault:v1:") {
		fail("encrypt", "ciphertext %q, want vault:v1:...", ct1)
	} else {
		pass("encrypt", "vault:v1")
	}

	dec := h.ok("decrypt", "update", "decrypt/gohost", map[string]interface{}{"ciphertext": ct1})
	if str(dec, "plaintext") != plaintext {
		fail("decrypt", "plaintext %q, want %q", str(dec, "plaintext"), plaintext)
	} else {
		pass("decrypt", "round trip")
	}

	// A bad ciphertext is the caller's error (HTTP 400 in Vault), not the server's.
	out, perr, err := h.call("update", "decrypt/gohost", map[string]interface{}{"ciphertext": "vault:v1:AAAA"})
	switch {
	case err != nil:
		fail("decrypt-invalid", "gRPC error %v", err)
	case perr == nil:
		fail("decrypt-invalid", "no error for a forged ciphertext (data %v)", out)
	case perr.ErrType == 2 || perr.ErrType == 10 || (perr.ErrType == 3 && perr.ErrCode >= 500):
		fail("decrypt-invalid", "server-class error type %d code %d for a caller's mistake", perr.ErrType, perr.ErrCode)
	default:
		pass("decrypt-invalid", "err_type %d %q", perr.ErrType, perr.ErrMsg)
	}

	h.ok("rotate", "update", "keys/gohost/rotate", nil)
	enc2 := h.ok("encrypt-v2", "update", "encrypt/gohost", map[string]interface{}{"plaintext": plaintext})
	if ct2 := str(enc2, "ciphertext"); !strings.HasPrefix(ct2, "vault:v2:") {
		fail("rotate", "after rotation ciphertext %q, want vault:v2:...", ct2)
	} else {
		pass("rotate", "new ciphertexts are vault:v2")
	}

	rw := h.ok("rewrap", "update", "rewrap/gohost", map[string]interface{}{"ciphertext": ct1})
	rewrapped := str(rw, "ciphertext")
	if !strings.HasPrefix(rewrapped, "vault:v2:") {
		fail("rewrap", "rewrapped %q, want vault:v2:...", rewrapped)
	} else if d := h.ok("rewrap", "update", "decrypt/gohost", map[string]interface{}{"ciphertext": rewrapped}); str(d, "plaintext") != plaintext {
		fail("rewrap", "rewrapped ciphertext decrypts to %q", str(d, "plaintext"))
	} else {
		pass("rewrap", "v1 -> v2, same plaintext")
	}

	read := h.ok("read", "read", "keys/gohost", nil)
	keys, _ := read["keys"].(map[string]interface{})
	if num(read, "latest_version") != 2 || keys["1"] == nil || keys["2"] == nil || str(read, "type") != "aes256-gcm96" {
		fail("read", "got %v, want type aes256-gcm96, latest_version 2, keys 1 and 2", read)
	} else {
		pass("read", "aes256-gcm96, latest_version 2, keys [1 2]")
	}

	secondMount(bc, h, ct1)
	clusterRotation(bc)

	// Storage.Put fails: a server-class error, and the keyring (cached or stored) stays at version 2.
	snapshotV2, _ := h.storage.get("policy/gohost")
	h.storage.setFailPut("storage backend unavailable (injected by gohost)")
	_, perr, err = h.call("update", "keys/gohost/rotate", nil)
	h.storage.setFailPut("")
	switch {
	case err != nil:
		fail("storage-put-failure", "gRPC error instead of an error reply: %v", err)
	case perr == nil:
		fail("storage-put-failure", "rotate succeeded although Storage.Put failed")
	case !(perr.ErrType == 0 || perr.ErrType == 2 || (perr.ErrType == 3 && perr.ErrCode >= 500)):
		fail("storage-put-failure", "err_type %d code %d, want a 500-class error", perr.ErrType, perr.ErrCode)
	default:
		after := h.ok("storage-put-failure", "read", "keys/gohost", nil)
		if v := num(after, "latest_version"); v != 2 {
			fail("storage-put-failure", "latest_version %v after a failed rotation, want 2", v)
		} else {
			pass("storage-put-failure", "err_type %d %q; keyring still at v2", perr.ErrType, perr.ErrMsg)
		}
	}

	// InvalidateKey: the host changes the stored keyring behind the plugin's back (as a performance
	// standby sees replicated writes), then invalidates; the next request must use the stored keyring.
	h.ok("invalidate-key", "update", "keys/gohost/rotate", nil)
	if v := num(h.ok("invalidate-key", "read", "keys/gohost", nil), "latest_version"); v != 3 {
		fatal("invalidate-key", "latest_version %v after a third rotation, want 3", v)
	}
	h.storage.set("policy/gohost", snapshotV2)
	if _, err := h.backend.InvalidateKey(ctx, &pb.InvalidateKeyArgs{Key: "policy/gohost"}); err != nil {
		fail("invalidate-key", "%v", err)
	} else if v := num(h.ok("invalidate-key", "read", "keys/gohost", nil), "latest_version"); v != 2 {
		fail("invalidate-key", "latest_version %v after invalidation, want 2 (the stored keyring)", v)
	} else {
		pass("invalidate-key", "stored keyring (v2) used after InvalidateKey")
	}

	if _, err := h.backend.Cleanup(ctx, &pb.Empty{}); err != nil {
		fail("cleanup", "%v", err)
	} else {
		pass("cleanup", "")
	}
	select {
	case s := <-serverCh:
		s.Stop()
	default:
	}

	// Graceful shutdown: Kill closes the client, which calls GRPCController.Shutdown, and waits up to 2 s
	// for the process to exit before killing it.
	t0 := time.Now()
	client.Kill()
	killed = true
	took := time.Since(t0)
	// Only go-plugin's lines about this client (the registration probe logs as gohost.register).
	log := moduleLines(logText(), "gohost")
	switch {
	case strings.Contains(log, "plugin failed to exit gracefully"):
		fail("shutdown", "the plugin did not exit within go-plugin's 2 s after Shutdown; it was killed")
	case processExitedWithError(log):
		fail("shutdown", "the plugin exited with an error after Shutdown: %s", exitLine(log))
	case !strings.Contains(log, `"@message":"plugin exited"`):
		fail("shutdown", "go-plugin did not see the process exit after Shutdown")
	case syscall.Kill(pid, 0) == nil:
		fail("shutdown", "process %d still exists", pid)
	default:
		pass("shutdown", "process %d exited with status 0 in %v", pid, took.Round(time.Millisecond))
	}

	if failures > 0 {
		fmt.Printf("FAILED %d check(s)\n", failures)
		cleanupAndExit(1)
	}
	fmt.Println("ALL PASSED")
	cleanupAndExit(0)
}

// secondMount mounts the plugin a second time in the same process, as Vault does with a multiplexed
// plugin: its own multiplex_id, its own Setup with its own broker id and storage. Nothing may cross over.
func secondMount(bc *backendClient, first *host, firstCiphertext string) {
	const name = "second-mount"
	ctx := context.Background()
	conn := &muxConn{ClientConn: bc.conn, id: "gohostMnt2"}
	h := &host{backend: pb.NewBackendClient(conn), storage: &memStorage{data: map[string][]byte{}}}
	serverCh := make(chan *grpc.Server, 1)
	brokerID := bc.broker.NextId()
	go bc.broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterStorageServer(s, h.storage)
		pb.RegisterSystemViewServer(s, &systemView{})
		pb.RegisterEventsServer(s, &events{})
		serverCh <- s
		return s
	})
	defer func() {
		select {
		case s := <-serverCh:
			s.Stop()
		case <-time.After(time.Second):
		}
	}()
	reply, err := h.backend.Setup(ctx, &pb.SetupArgs{
		BrokerId:    brokerID,
		Config:      map[string]string{"plugin_name": "transit-ts", "plugin_type": "secret", "plugin_version": "v0.1.0"},
		BackendUUID: "0f3c2b1a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
	})
	if err != nil || reply.Err != "" {
		fail(name, "Setup: %v %s", err, reply.GetErr())
		return
	}
	if _, err := h.backend.Initialize(ctx, &pb.InitializeArgs{}); err != nil {
		fail(name, "Initialize: %v", err)
		return
	}
	if read, perr, err := h.call("read", "keys/gohost", nil); err != nil || perr != nil || read != nil {
		fail(name, "the first mount's key is visible on the second: %v %v %v", read, perr, err)
		return
	}
	before, _ := first.storage.get("policy/gohost")
	h.ok(name, "update", "keys/gohost", nil)
	if _, ok := h.storage.get("policy/gohost"); !ok {
		fail(name, "the second mount's keyring is not in the second mount's storage")
		return
	}
	if after, _ := first.storage.get("policy/gohost"); !bytes.Equal(before, after) {
		fail(name, "creating a key on the second mount changed the first mount's storage")
		return
	}
	out, perr, err := h.call("update", "decrypt/gohost", map[string]interface{}{"ciphertext": firstCiphertext})
	if err != nil || perr == nil {
		fail(name, "the second mount decrypted the first mount's ciphertext: %v %v", out, err)
		return
	}
	if _, err := h.backend.Cleanup(ctx, &pb.Empty{}); err != nil {
		fail(name, "Cleanup: %v", err)
		return
	}
	// Unmounting the second leaves the first serving.
	if d := first.ok(name, "read", "keys/gohost", nil); num(d, "latest_version") != 2 {
		fail(name, "the first mount after the second's Cleanup: %v", d)
		return
	}
	pass(name, "own multiplex_id, Setup and storage; keys and ciphertexts stay apart; first mount unaffected by its Cleanup")
}

// newClient configures go-plugin as Vault's plugin catalog does for a backend plugin.
func newClient(pluginPath string, logger hclog.Logger) *plugin.Client {
	// Vault's runner passes only its own variables (pluginutil run_config.go); go-plugin adds the cookie,
	// PLUGIN_PROTOCOL_VERSIONS, the port range and PLUGIN_CLIENT_CERT.
	cmd := exec.Command(pluginPath)
	cmd.Env = []string{
		"VAULT_VERSION=1.19.0",
		"VAULT_PLUGIN_METADATA_MODE=false",
		"VAULT_PLUGIN_AUTOMTLS_ENABLED=true",
	}
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			4: {"backend": &backendPlugin{}},
			5: {"backend": &backendPlugin{}},
		},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		StartTimeout:     30 * time.Second,
	})
}

// probeStorage counts calls: at registration Vault serves no storage (a nil view), so none may come.
type probeStorage struct {
	pb.UnimplementedStorageServer
	mu    sync.Mutex
	calls []string
}

func (s *probeStorage) note(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

func (s *probeStorage) List(_ context.Context, a *pb.StorageListArgs) (*pb.StorageListReply, error) {
	s.note("List " + a.Prefix)
	return &pb.StorageListReply{Err: "no storage at registration"}, nil
}

func (s *probeStorage) Get(_ context.Context, a *pb.StorageGetArgs) (*pb.StorageGetReply, error) {
	s.note("Get " + a.Key)
	return &pb.StorageGetReply{Err: "no storage at registration"}, nil
}

func (s *probeStorage) Put(_ context.Context, a *pb.StoragePutArgs) (*pb.StoragePutReply, error) {
	s.note("Put " + a.GetEntry().GetKey())
	return &pb.StoragePutReply{Err: "no storage at registration"}, nil
}

func (s *probeStorage) Delete(_ context.Context, a *pb.StorageDeleteArgs) (*pb.StorageDeleteReply, error) {
	s.note("Delete " + a.Key)
	return &pb.StorageDeleteReply{Err: "no storage at registration"}, nil
}

// registerProbe does what `vault plugin register -version=...` does before it stores the catalog entry
// (vault/plugin_catalog.go getBackendRunningVersion): start the plugin, Setup with an empty BackendConfig
// (no config, no backend UUID, no storage), ask PluginVersion, and kill it. No Initialize.
func registerProbe(pluginPath string, logger hclog.Logger, logText func() string) {
	const name = "register-probe"
	client := newClient(pluginPath, logger)
	killed := false
	defer func() {
		if !killed {
			client.Kill()
		}
	}()
	rpcClient, err := client.Client()
	if err != nil {
		fail(name, "start: %v", err)
		return
	}
	raw, err := rpcClient.Dispense("backend")
	if err != nil {
		fail(name, "dispense: %v", err)
		return
	}
	bc := raw.(*backendClient)
	conn := &muxConn{ClientConn: bc.conn, id: "gohostReg0"}
	storage := &probeStorage{}
	brokerID := bc.broker.NextId()
	go bc.broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterStorageServer(s, storage)
		pb.RegisterSystemViewServer(s, &systemView{})
		return s
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := pb.NewBackendClient(conn).Setup(ctx, &pb.SetupArgs{BrokerId: brokerID})
	if err != nil {
		fail(name, "Setup with an empty config: %v", err)
		return
	}
	if reply.Err != "" {
		fail(name, "Setup with an empty config: %s", reply.Err)
		return
	}
	ver, err := logical.NewPluginVersionClient(conn).Version(ctx, &logical.Empty{})
	if err != nil {
		fail(name, "PluginVersion after Setup: %v", err)
		return
	}
	storage.mu.Lock()
	calls := append([]string(nil), storage.calls...)
	storage.mu.Unlock()
	if len(calls) > 0 {
		fail(name, "the plugin used storage during registration (Vault serves none then): %v", calls)
		return
	}
	// Vault then kills the client (cleanupExternalPlugin): Shutdown through the controller.
	client.Kill()
	killed = true
	log := moduleLines(logText(), "gohost.register")
	if strings.Contains(log, "plugin failed to exit gracefully") || processExitedWithError(log) ||
		!strings.Contains(log, `"@message":"plugin exited"`) {
		fail(name, "the probed plugin did not exit cleanly: %s", exitLine(log))
		return
	}
	pass(name, "Setup with an empty config, version %s, no storage calls, clean exit", ver.PluginVersion)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// go-plugin logs "plugin process exited" with an "error" field when the exit status is not 0.
// moduleLines keeps the hclog JSON lines of one logger.
func moduleLines(log, module string) string {
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"@module":"`+module+`"`) {
			b.WriteString(line)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func processExitedWithError(log string) bool {
	line := exitLine(log)
	return line != "" && strings.Contains(line, `"error"`)
}

func exitLine(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "plugin process exited") {
			return line
		}
	}
	return ""
}

// ---- cluster: periodic work by replication state, and InvalidateKey of a due key ----

// consts.ReplicationState bits (hashicorp/vault sdk/helper/consts/replication.go: iota is 5 at the first).
const (
	replPerformancePrimary   = 1 << 5
	replPerformanceSecondary = 1 << 6
	replDRPrimary            = 1 << 8
	replDRSecondary          = 1 << 9
	replPerformanceStandby   = 1 << 14
)

// mount sets up one more multiplexed mount with its own storage and SystemView; stop ends its broker server.
func mount(bc *backendClient, id string, view systemView) (h *host, stop func(), err error) {
	ctx := context.Background()
	conn := &muxConn{ClientConn: bc.conn, id: id}
	h = &host{backend: pb.NewBackendClient(conn), storage: &memStorage{data: map[string][]byte{}}}
	serverCh := make(chan *grpc.Server, 1)
	brokerID := bc.broker.NextId()
	go bc.broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterStorageServer(s, h.storage)
		pb.RegisterSystemViewServer(s, &view)
		pb.RegisterEventsServer(s, &events{})
		serverCh <- s
		return s
	})
	stop = func() {
		h.backend.Cleanup(ctx, &pb.Empty{})
		select {
		case s := <-serverCh:
			s.Stop()
		case <-time.After(time.Second):
		}
	}
	reply, err := h.backend.Setup(ctx, &pb.SetupArgs{BrokerId: brokerID, Config: map[string]string{"plugin_name": "transit-ts"}, BackendUUID: id})
	if err == nil && reply.Err != "" {
		err = errors.New(reply.Err)
	}
	if err == nil {
		_, err = h.backend.Initialize(ctx, &pb.InitializeArgs{})
	}
	return h, stop, err
}

// dueKey makes the key "rot" with a one-hour auto_rotate_period whose only version is dated two hours
// ago: the plugin's own backup, with the creation times moved back, restored under the same name.
func dueKey(name string, h *host) error {
	h.ok(name, "update", "keys/rot", map[string]interface{}{"auto_rotate_period": "1h", "exportable": true, "allow_plaintext_backup": true})
	h.ok(name, "update", "keys/rot/config", map[string]interface{}{"deletion_allowed": true})
	raw, err := base64.StdEncoding.DecodeString(str(h.ok(name, "read", "backup/rot", nil), "backup"))
	if err != nil {
		return err
	}
	var blob map[string]interface{}
	if err := json.Unmarshal(raw, &blob); err != nil {
		return err
	}
	// keysutil.KeyEntry: "time" is the RFC 3339 creation time, "creation_time" the older Unix seconds.
	past := time.Now().Add(-2 * time.Hour).UTC()
	age := func(entry interface{}) {
		if e, ok := entry.(map[string]interface{}); ok && e["time"] != nil && e["time"] != "0001-01-01T00:00:00Z" {
			e["time"] = past.Format(time.RFC3339Nano)
			e["creation_time"] = float64(past.Unix())
		}
	}
	policy, _ := blob["policy"].(map[string]interface{})
	keys, _ := policy["keys"].(map[string]interface{})
	for _, e := range keys {
		age(e)
	}
	archived, _ := blob["archived_keys"].(map[string]interface{})
	list, _ := archived["keys"].([]interface{})
	for _, e := range list {
		age(e)
	}
	out, err := json.Marshal(blob)
	if err != nil {
		return err
	}
	h.ok(name, "delete", "keys/rot", nil)
	h.ok(name, "update", "restore", map[string]interface{}{"backup": base64.StdEncoding.EncodeToString(out)})
	return nil
}

// rollback sends Vault's periodic tick and returns the key's latest version after it.
func rollback(name string, h *host) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := h.backend.HandleRequest(ctx, &pb.HandleRequestArgs{Request: h.request("rollback", "", nil)})
	if err != nil {
		fail(name, "rollback: %v", err)
	} else if reply.Err != nil {
		fail(name, "rollback error reply: %v", reply.Err)
	}
	return num(h.ok(name, "read", "keys/rot", nil), "latest_version")
}

func clusterRotation(bc *backendClient) {
	cases := []struct {
		label   string
		state   int32
		local   bool
		rotates bool
	}{
		{"primary", 0, false, true},
		{"performance-primary", replPerformancePrimary, false, true},
		{"dr-primary", replDRPrimary, false, true},
		{"dr-secondary", replDRSecondary, true, false},
		{"performance-standby", replPerformanceStandby, true, false},
		{"performance-secondary", replPerformanceSecondary, false, false},
		{"performance-secondary-local", replPerformanceSecondary, true, true},
	}
	for i, c := range cases {
		name := "replication-" + c.label
		h, stop, err := mount(bc, fmt.Sprintf("gohostRepl%d", i), systemView{state: c.state, local: c.local})
		if err != nil {
			fail(name, "mount: %v", err)
			stop()
			continue
		}
		if err := dueKey(name, h); err != nil {
			fail(name, "preparing a due key: %v", err)
		} else if v, want := rollback(name, h), map[bool]float64{true: 2, false: 1}[c.rotates]; v != want {
			fail(name, "state %d local %v: latest_version %v after a rollback tick, want %v", c.state, c.local, v, want)
		} else {
			pass(name, "state %d local %v: due key latest_version %v after one tick", c.state, c.local, v)
		}
		stop()
	}

	// InvalidateKey: a node that knows "rot" without a period gets the stored keyring of a due one
	// (as a replicated write) and an InvalidateKey; its next tick must rotate it.
	const name = "invalidate-due-key"
	a, stopA, errA := mount(bc, "gohostInvA", systemView{})
	b, stopB, errB := mount(bc, "gohostInvB", systemView{})
	defer stopA()
	defer stopB()
	if errA != nil || errB != nil {
		fail(name, "mount: %v %v", errA, errB)
		return
	}
	a.ok(name, "update", "keys/rot", nil)
	if v := rollback(name, a); v != 1 {
		fail(name, "a key without a period rotated: latest_version %v", v)
		return
	}
	if err := dueKey(name, b); err != nil {
		fail(name, "preparing a due key: %v", err)
		return
	}
	due, _ := b.storage.get("policy/rot")
	a.storage.set("policy/rot", due)
	if _, err := a.backend.InvalidateKey(context.Background(), &pb.InvalidateKeyArgs{Key: "policy/rot"}); err != nil {
		fail(name, "%v", err)
	} else if v := rollback(name, a); v != 2 {
		fail(name, "latest_version %v after InvalidateKey and a tick, want 2 (the stored keyring was due)", v)
	} else {
		pass(name, "the stored keyring's schedule is used after InvalidateKey")
	}
}
