// Command host is the load generator of the "through a Vault-like host" bench layer: a Go host that starts
// plugins as Vault does (HashiCorp's go-plugin and grpc-go from Debian: Vault's handshake, auto-mTLS, app
// protocol 5, the multiplexing probe, multiplex_id metadata on every call, Storage and SystemView served
// through the go-plugin broker, Setup) and sends each encrypt as Vault's router does for a write with an
// existence check: HandleExistenceCheck, then HandleRequest with the data JSON-encoded per request.
//
// It starts every plugin named by -plugin (name=command[,arg...]), then runs every case in interleaved
// rounds (the plugins' order alternates round by round) and prints one JSON line per case, plugin and
// round: calls/s, items/s, latency p50/p99, and CPU per call of the plugin process (/proc/<pid>/stat, all
// its threads) and of this host (getrusage). A "mixed" case runs small encrypts while one goroutine keeps a
// large batch in flight and reports the small encrypts' latency.
//
// One file of about 500 lines: build.sh builds it as a single package main next to the Go code generated from
// proto/, as test/gohost/main.go is built; its parts (go-plugin wiring, brokered services, load loop) are small.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

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

type backendPlugin struct{ plugin.NetRPCUnsupportedPlugin }

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

// muxConn adds the mount's multiplex_id to every call, as vault/plugin_catalog.go's pluginClientConn does.
type muxConn struct {
	*grpc.ClientConn
	id string
}

func (c *muxConn) Invoke(ctx context.Context, method string, args, reply interface{}, opts ...grpc.CallOption) error {
	return c.ClientConn.Invoke(metadata.NewOutgoingContext(ctx, metadata.Pairs("multiplex_id", c.id)), method, args, reply, opts...)
}

func (c *muxConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.ClientConn.NewStream(metadata.NewOutgoingContext(ctx, metadata.Pairs("multiplex_id", c.id)), desc, method, opts...)
}

// memStorage is the mount's storage view.
type memStorage struct {
	pb.UnimplementedStorageServer
	mu   sync.Mutex
	data map[string][]byte
}

func (s *memStorage) List(_ context.Context, a *pb.StorageListArgs) (*pb.StorageListReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.data {
		if strings.HasPrefix(k, a.Prefix) {
			keys = append(keys, k[len(a.Prefix):])
		}
	}
	sort.Strings(keys)
	return &pb.StorageListReply{Keys: keys}, nil
}

func (s *memStorage) Get(_ context.Context, a *pb.StorageGetArgs) (*pb.StorageGetReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.data[a.Key]; ok {
		return &pb.StorageGetReply{Entry: &pb.StorageEntry{Key: a.Key, Value: v}}, nil
	}
	return &pb.StorageGetReply{}, nil
}

func (s *memStorage) Put(_ context.Context, a *pb.StoragePutArgs) (*pb.StoragePutReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[a.Entry.GetKey()] = append([]byte(nil), a.Entry.GetValue()...)
	return &pb.StoragePutReply{}, nil
}

func (s *memStorage) Delete(_ context.Context, a *pb.StorageDeleteArgs) (*pb.StorageDeleteReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, a.Key)
	return &pb.StorageDeleteReply{}, nil
}

// systemView answers as a single-node Vault with the default mount tuning.
type systemView struct {
	pb.UnimplementedSystemViewServer
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
func (systemView) ReplicationState(context.Context, *pb.Empty) (*pb.ReplicationStateReply, error) {
	return &pb.ReplicationStateReply{}, nil
}
func (systemView) MlockEnabled(context.Context, *pb.Empty) (*pb.MlockEnabledReply, error) {
	return &pb.MlockEnabledReply{}, nil
}
func (systemView) LocalMount(context.Context, *pb.Empty) (*pb.LocalMountReply, error) {
	return &pb.LocalMountReply{}, nil
}
func (systemView) PluginEnv(context.Context, *pb.Empty) (*pb.PluginEnvReply, error) {
	return &pb.PluginEnvReply{PluginEnvironment: &logical.PluginEnvironment{VaultVersion: "1.19.0"}}, nil
}

// mounted is one plugin process with one mount on it.
type mounted struct {
	name    string
	client  *plugin.Client
	backend pb.BackendClient
	pid     int
	seq     uint64
}

func start(name string, argv []string, logger hclog.Logger) (*mounted, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"VAULT_VERSION=1.19.0", "VAULT_PLUGIN_METADATA_MODE=false", "VAULT_PLUGIN_AUTOMTLS_ENABLED=true"}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{5: {"backend": &backendPlugin{}}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		StartTimeout:     60 * time.Second,
	})
	fail := func(err error) (*mounted, error) {
		client.Kill()
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	rpc, err := client.Client()
	if err != nil {
		return fail(err)
	}
	grpcClient := rpc.(*plugin.GRPCClient)
	ctx := context.Background()
	if m, err := pluginutil.NewPluginMultiplexingClient(grpcClient.Conn).MultiplexingSupport(ctx, &pluginutil.MultiplexingSupportRequest{}); err != nil || !m.Supported {
		return fail(fmt.Errorf("multiplexing not supported: %v", err))
	}
	raw, err := rpc.Dispense("backend")
	if err != nil {
		return fail(err)
	}
	bc := raw.(*backendClient)
	backend := pb.NewBackendClient(&muxConn{ClientConn: bc.conn, id: "benchMount1"})
	storage := &memStorage{data: map[string][]byte{}}
	brokerID := bc.broker.NextId()
	go bc.broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterStorageServer(s, storage)
		pb.RegisterSystemViewServer(s, &systemView{})
		return s
	})
	setup, err := backend.Setup(ctx, &pb.SetupArgs{
		BrokerId:    brokerID,
		Config:      map[string]string{"plugin_name": name, "plugin_type": "secret"},
		BackendUUID: "3b1f4c2e-8d7a-4e6b-9c5d-0a1b2c3d4e5f",
	})
	if err != nil || setup.Err != "" {
		return fail(fmt.Errorf("Setup: %v %s", err, setup.GetErr()))
	}
	if _, err := backend.Initialize(ctx, &pb.InitializeArgs{}); err != nil {
		return fail(fmt.Errorf("Initialize: %v", err))
	}
	m := &mounted{name: name, client: client, backend: backend, pid: client.ReattachConfig().Pid}
	if _, err := m.write(ctx, "keys/bench", map[string]interface{}{"type": "aes256-gcm96"}); err != nil {
		return fail(err)
	}
	return m, nil
}

// request is the pb.Request Vault's router builds for an API write (LogicalRequestToProtoRequest).
func (m *mounted) request(op, path, data string) *pb.Request {
	n := atomic.AddUint64(&m.seq, 1)
	return &pb.Request{
		Id:                  "bench-" + strconv.FormatUint(n, 10),
		Operation:           op,
		Path:                path,
		Data:                data,
		ClientToken:         "hvs.CAESIbenchbenchbenchbenchbenchbenchbench",
		ClientTokenAccessor: "benchAccessor000000000000",
		DisplayName:         "token",
		MountPoint:          "transit/",
		MountType:           "transit",
		MountAccessor:       "transit_5f2b7e1c",
		EntityId:            "0b9f4f1e-6a3c-4c4d-8f0e-4bb1f2f0b0c1",
		Connection:          &pb.Connection{RemoteAddr: "127.0.0.1"},
	}
}

// write does what Vault does for an API write to a path with an existence check: the check, then the request.
func (m *mounted) write(ctx context.Context, path string, data map[string]interface{}) (map[string]interface{}, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	ex, err := m.backend.HandleExistenceCheck(ctx, &pb.HandleExistenceCheckArgs{Request: m.request("create", path, string(raw))})
	if err != nil {
		return nil, err
	}
	op := "create"
	if !ex.CheckFound || ex.Exists {
		op = "update"
	}
	reply, err := m.backend.HandleRequest(ctx, &pb.HandleRequestArgs{Request: m.request(op, path, string(raw))})
	if err != nil {
		return nil, err
	}
	if reply.Err != nil {
		return nil, fmt.Errorf("%s: %s", path, reply.Err.ErrMsg)
	}
	var out map[string]interface{}
	if d := reply.GetResponse().GetData(); d != "" {
		if err := json.Unmarshal([]byte(d), &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cpuTicks is the plugin process's user+system time (all threads) in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return u + st, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type kase struct {
	Name     string `json:"name"`
	Size     int    `json:"size"`
	Batch    int    `json:"batch"`
	InFlight int    `json:"inFlight"`
	// Mixed: items of the large batch kept in flight beside the small calls (0: none).
	Mixed int `json:"mixed"`
}

type outcome struct {
	Case         kase    `json:"case"`
	Plugin       string  `json:"plugin"`
	Round        int     `json:"round"`
	Calls        int     `json:"calls"`
	Seconds      float64 `json:"seconds"`
	OpsPerSec    float64 `json:"opsPerSec"`
	ItemsPerSec  float64 `json:"itemsPerSec"`
	MeanUs       float64 `json:"meanUs"`
	P50Us        float64 `json:"p50Us"`
	P99Us        float64 `json:"p99Us"`
	MaxUs        float64 `json:"maxUs"`
	PluginCPUUs  float64 `json:"pluginCpuUsPerCall"`
	HostCPUUs    float64 `json:"hostCpuUsPerCall"`
	BigCalls     int     `json:"bigCalls,omitempty"`
	BigMeanMs    float64 `json:"bigMeanMs,omitempty"`
	RequestBytes int     `json:"requestBytes"`
	Error        string  `json:"error,omitempty"`
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := float64(len(sorted)-1) * q
	lo := int(pos)
	hi := lo
	if hi+1 < len(sorted) {
		hi++
	}
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

func batchData(items, size int) map[string]interface{} {
	buf := make([]byte, size)
	_, _ = rand.Read(buf)
	pt := base64.StdEncoding.EncodeToString(buf)
	if items <= 1 {
		return map[string]interface{}{"plaintext": pt}
	}
	list := make([]interface{}, items)
	for i := range list {
		list[i] = map[string]interface{}{"plaintext": pt}
	}
	return map[string]interface{}{"batch_input": list}
}

// run is one closed loop: InFlight callers for d (and, for a mixed case, until one large batch finished).
func run(m *mounted, c kase, d, warm time.Duration) outcome {
	o := outcome{Case: c, Plugin: m.name}
	data := batchData(c.Batch, c.Size)
	raw, _ := json.Marshal(data)
	o.RequestBytes = len(raw)
	ctx := context.Background()
	var firstErr atomic.Value
	loop := func(until time.Time, record bool, stopBig *int32) ([]float64, int) {
		var mu sync.Mutex
		var all []float64
		calls := 0
		var wg sync.WaitGroup
		for w := 0; w < c.InFlight; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []float64
				for time.Now().Before(until) || (stopBig != nil && atomic.LoadInt32(stopBig) == 0) {
					t0 := time.Now()
					if _, err := m.write(ctx, "encrypt/bench", data); err != nil {
						firstErr.Store(err.Error())
						return
					}
					if record {
						mine = append(mine, float64(time.Since(t0).Microseconds()))
					}
				}
				mu.Lock()
				all = append(all, mine...)
				calls += len(mine)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, calls
	}
	loop(time.Now().Add(warm), false, nil)
	var bigDone int32
	var bigCalls int
	var bigTotal time.Duration
	bigStop := make(chan struct{})
	bigFinished := make(chan struct{})
	var gate *int32
	if c.Mixed > 0 {
		gate = &bigDone
		big := batchData(c.Mixed, c.Size)
		go func() {
			defer close(bigFinished)
			for {
				select {
				case <-bigStop:
					return
				default:
				}
				t0 := time.Now()
				if _, err := m.write(ctx, "encrypt/bench", big); err != nil {
					firstErr.Store("large batch: " + err.Error())
					atomic.StoreInt32(&bigDone, 1)
					return
				}
				bigTotal += time.Since(t0)
				bigCalls++
				atomic.StoreInt32(&bigDone, 1)
			}
		}()
	}
	p0, _ := cpuTicks(m.pid)
	h0 := selfCPU()
	t0 := time.Now()
	lat, calls := loop(t0.Add(d), true, gate)
	secs := time.Since(t0).Seconds()
	p1, _ := cpuTicks(m.pid)
	h1 := selfCPU()
	if c.Mixed > 0 {
		close(bigStop)
		<-bigFinished
		o.BigCalls = bigCalls
		if bigCalls > 0 {
			o.BigMeanMs = float64(bigTotal.Milliseconds()) / float64(bigCalls)
		}
	}
	if e, ok := firstErr.Load().(string); ok {
		o.Error = e
		return o
	}
	sort.Float64s(lat)
	o.Calls = calls
	o.Seconds = secs
	o.OpsPerSec = float64(calls) / secs
	o.ItemsPerSec = o.OpsPerSec * float64(c.Batch)
	sum := 0.0
	for _, v := range lat {
		sum += v
	}
	if calls > 0 {
		o.MeanUs = sum / float64(calls)
		o.P50Us = quantile(lat, 0.5)
		o.P99Us = quantile(lat, 0.99)
		o.MaxUs = lat[len(lat)-1]
		// CPU while the large batch ran is charged to the small calls too: the figure is per small call.
		o.PluginCPUUs = float64(p1-p0) * 1e6 / 100 / float64(calls)
		o.HostCPUUs = float64((h1 - h0).Microseconds()) / float64(calls)
	}
	return o
}

func main() {
	var plugins multiFlag
	flag.Var(&plugins, "plugin", "name=command[,arg...] (repeatable)")
	casesJSON := flag.String("cases", "", "JSON list of cases {name,size,batch,inFlight,mixed}")
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	ms := flag.Int("ms", 1500, "measured time per case, plugin and round (ms)")
	warmMs := flag.Int("warmup-ms", 300, "warm-up per case, plugin and round (ms)")
	verbose := flag.Bool("v", false, "go-plugin's log on stderr")
	flag.Parse()

	var cases []kase
	if err := json.Unmarshal([]byte(*casesJSON), &cases); err != nil || len(cases) == 0 {
		fmt.Fprintf(os.Stderr, "-cases: %v\n", err)
		os.Exit(2)
	}
	level := hclog.Error
	if *verbose {
		level = hclog.Debug
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "benchhost", Level: level, Output: os.Stderr})
	var ms2 []*mounted
	defer func() {
		for _, m := range ms2 {
			m.client.Kill()
		}
	}()
	for _, p := range plugins {
		eq := strings.IndexByte(p, '=')
		if eq < 1 {
			fmt.Fprintf(os.Stderr, "-plugin %q: want name=command\n", p)
			os.Exit(2)
		}
		m, err := start(p[:eq], strings.Split(p[eq+1:], ","), logger)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			for _, m := range ms2 {
				m.client.Kill()
			}
			os.Exit(1)
		}
		ms2 = append(ms2, m)
	}
	enc := json.NewEncoder(os.Stdout)
	for r := 0; r < *rounds; r++ {
		for _, c := range cases {
			for i := range ms2 {
				m := ms2[i]
				if r%2 == 1 {
					m = ms2[len(ms2)-1-i]
				}
				warm := time.Duration(*warmMs) * time.Millisecond
				if r > 0 {
					warm /= 3
				}
				o := run(m, c, time.Duration(*ms)*time.Millisecond, warm)
				o.Round = r
				_ = enc.Encode(&o)
			}
		}
	}
}

type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, " ") }
func (f *multiFlag) Set(v string) error { *f = append(*f, v); return nil }
