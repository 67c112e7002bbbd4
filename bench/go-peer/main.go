// Command go-peer is the Go lower bound of Vault's per-request cost for
// transit encrypt and decrypt: the least work Vault's Go code does for one
// request, with the Go standard library only. It is not Vault: no routing,
// no policy lookup, no locks, no storage, no audit, no HTTP. Per request it
// does JSON in, base64 decode, AES-256-GCM seal with a random nonce (open,
// for decrypt), "vault:v1:" + base64, JSON out.
//
// It times its loops the way bench/lib/measure.ts times the TypeScript
// engine: calls are timed in batches of k (k calibrated so a batch lasts
// about -batch-ms), each sample is a batch's mean, and ops/s is calls over
// timed seconds. Output: one JSON object on stdout.
//
// Build: GO111MODULE=off go build -o go-peer main.go (no modules, no network).
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

const prefix = "vault:v1:"

type encryptRequest struct {
	Plaintext string `json:"plaintext"`
}

type encryptResponse struct {
	Data struct {
		Ciphertext string `json:"ciphertext"`
		KeyVersion int    `json:"key_version"`
	} `json:"data"`
}

type decryptRequest struct {
	Ciphertext string `json:"ciphertext"`
}

type decryptResponse struct {
	Data struct {
		Plaintext string `json:"plaintext"`
	} `json:"data"`
}

type engine struct {
	key []byte
	// cached is nil in the "vault" variant: keysutil builds a new AES cipher
	// and GCM per request (aes.NewCipher + cipher.NewGCM). The "cached"
	// variant keeps one, a stricter bound than Vault itself.
	cached cipher.AEAD
}

func (e *engine) aead() (cipher.AEAD, error) {
	if e.cached != nil {
		return e.cached, nil
	}
	block, err := aes.NewCipher(e.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (e *engine) encrypt(body []byte) ([]byte, error) {
	var req encryptRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	plaintext, err := base64.StdEncoding.DecodeString(req.Plaintext)
	if err != nil {
		return nil, err
	}
	a, err := e.aead()
	if err != nil {
		return nil, err
	}
	n := a.NonceSize()
	out := make([]byte, n, n+len(plaintext)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	sealed := a.Seal(out, out, plaintext, nil)
	var resp encryptResponse
	resp.Data.Ciphertext = prefix + base64.StdEncoding.EncodeToString(sealed)
	resp.Data.KeyVersion = 1
	return json.Marshal(&resp)
}

func (e *engine) decrypt(body []byte) ([]byte, error) {
	var req decryptRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(req.Ciphertext, prefix) {
		return nil, errors.New("invalid ciphertext: no prefix")
	}
	raw, err := base64.StdEncoding.DecodeString(req.Ciphertext[len(prefix):])
	if err != nil {
		return nil, err
	}
	a, err := e.aead()
	if err != nil {
		return nil, err
	}
	n := a.NonceSize()
	if len(raw) < n+a.Overhead() {
		return nil, errors.New("invalid ciphertext length")
	}
	// Opened in place: no allocation for the plaintext.
	plaintext, err := a.Open(raw[n:n], raw[:n], raw[n:], nil)
	if err != nil {
		return nil, err
	}
	var resp decryptResponse
	resp.Data.Plaintext = base64.StdEncoding.EncodeToString(plaintext)
	return json.Marshal(&resp)
}

type result struct {
	Op        string    `json:"op"`
	Size      int       `json:"size"`
	Variant   string    `json:"variant"`
	OpsPerSec float64   `json:"opsPerSec"`
	MeanUs    float64   `json:"meanUs"`
	P50Us     float64   `json:"p50Us"`
	P99Us     float64   `json:"p99Us"`
	Samples   int       `json:"samples"`
	Batch     int       `json:"batch"`
	Rounds    []float64 `json:"rounds"`
	GoVersion string    `json:"goVersion,omitempty"`
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := float64(len(sorted)-1) * q
	lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// measure times fn as bench/lib/measure.ts does: calibrate, warm up, then
// batches of k calls until the time budget is spent (at least 3 batches).
func measure(fn func() error, budget, warm, batchTarget time.Duration) (result, error) {
	var res result
	calls := 0
	start := time.Now()
	calibrate := 20 * time.Millisecond
	if warm < calibrate {
		calibrate = warm
	}
	for time.Since(start) < calibrate || calls < 3 {
		if err := fn(); err != nil {
			return res, err
		}
		calls++
	}
	perCall := float64(time.Since(start)) / float64(calls)
	k := int(math.Round(float64(batchTarget) / math.Max(perCall, 1)))
	if k < 1 {
		k = 1
	}
	if k > 100000 {
		k = 100000
	}
	for wstart := time.Now(); time.Since(wstart) < warm; {
		if err := fn(); err != nil {
			return res, err
		}
	}
	var samples []float64
	var total time.Duration
	for total < budget || len(samples) < 3 {
		t0 := time.Now()
		for i := 0; i < k; i++ {
			if err := fn(); err != nil {
				return res, err
			}
		}
		dt := time.Since(t0)
		total += dt
		samples = append(samples, float64(dt)/float64(k)/1e3) // µs per call
	}
	sort.Float64s(samples)
	res.Samples = len(samples)
	res.Batch = k
	res.OpsPerSec = float64(len(samples)*k) / total.Seconds()
	res.MeanUs = 1e6 / res.OpsPerSec
	res.P50Us = quantile(samples, 0.5)
	res.P99Us = quantile(samples, 0.99)
	return res, nil
}

func main() {
	op := flag.String("op", "encrypt", "encrypt or decrypt")
	size := flag.Int("size", 64, "plaintext size in bytes")
	variant := flag.String("variant", "vault", "vault (new AES-GCM per request, as keysutil) or cached (one AES-GCM)")
	ms := flag.Float64("ms", 120, "time budget per round, milliseconds")
	warmMs := flag.Float64("warmup-ms", 60, "warm-up, milliseconds")
	batchMs := flag.Float64("batch-ms", 0.5, "target length of a timed batch, milliseconds")
	rounds := flag.Int("rounds", 1, "rounds (the figure is their median)")
	keyHex := flag.String("key", "", "hex AES-256 key (default: random)")
	check := flag.Bool("check", false, "print one encrypt response body for -size bytes of 0x61 and exit")
	flag.Parse()

	key := make([]byte, 32)
	if *keyHex != "" {
		k, err := hex.DecodeString(*keyHex)
		if err != nil || len(k) != 32 {
			fmt.Fprintln(os.Stderr, "-key must be 64 hex digits")
			os.Exit(2)
		}
		key = k
	} else if _, err := rand.Read(key); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e := &engine{key: key}
	if *variant == "cached" {
		a, err := e.aead()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		e.cached = a
	} else if *variant != "vault" {
		fmt.Fprintln(os.Stderr, "-variant must be vault or cached")
		os.Exit(2)
	}

	plaintext := make([]byte, *size)
	if *check {
		plaintext = bytes.Repeat([]byte{'a'}, *size)
	} else if _, err := rand.Read(plaintext); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	encBody, _ := json.Marshal(encryptRequest{Plaintext: base64.StdEncoding.EncodeToString(plaintext)})
	if *check {
		out, err := e.encrypt(encBody)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(out)
		fmt.Println()
		return
	}

	var fn func() error
	switch *op {
	case "encrypt":
		fn = func() error { _, err := e.encrypt(encBody); return err }
	case "decrypt":
		out, err := e.encrypt(encBody)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var resp encryptResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		decBody, _ := json.Marshal(decryptRequest{Ciphertext: resp.Data.Ciphertext})
		// The decrypt path is checked once against the plaintext before it is timed.
		got, err := e.decrypt(decBody)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var dr decryptResponse
		if err := json.Unmarshal(got, &dr); err != nil || dr.Data.Plaintext != base64.StdEncoding.EncodeToString(plaintext) {
			fmt.Fprintln(os.Stderr, "decrypt round trip failed")
			os.Exit(1)
		}
		fn = func() error { _, err := e.decrypt(decBody); return err }
	default:
		fmt.Fprintln(os.Stderr, "-op must be encrypt or decrypt")
		os.Exit(2)
	}

	dur := func(m float64) time.Duration { return time.Duration(m * float64(time.Millisecond)) }
	var all result
	var perRound []float64
	var sampleSum int
	for r := 0; r < *rounds; r++ {
		warm := dur(*warmMs)
		if r > 0 {
			warm = dur(math.Min(*warmMs, 20))
		}
		res, err := measure(fn, dur(*ms), warm, dur(*batchMs))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		perRound = append(perRound, res.OpsPerSec)
		sampleSum += res.Samples
		all = res
	}
	sorted := append([]float64(nil), perRound...)
	sort.Float64s(sorted)
	all.Op, all.Size, all.Variant = *op, *size, *variant
	all.Rounds = perRound
	all.Samples = sampleSum
	all.OpsPerSec = quantile(sorted, 0.5)
	all.MeanUs = 1e6 / all.OpsPerSec
	out, _ := json.Marshal(all)
	os.Stdout.Write(out)
	fmt.Println()
}
