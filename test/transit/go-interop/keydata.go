// An independent Go program for the transit backup interop test
// (test/transit/go-interop.test.ts). Standard library only.
//
// The structs below are written for this test from the JSON struct tags of
// Vault's sdk/helper/keysutil (KeyData, Policy, KeyEntry, archivedKeys,
// BackupInfo/RestoreInfo, HybridKeyConfig; newest CE field set). Go's own
// encoding/json, math/big, crypto/rsa and time do the encoding, so the
// blobs are what Vault's Backup would write, and reading our blobs with
// DisallowUnknownFields proves they carry exactly Vault's fields.
//
//	go run keydata.go make   > fixtures.json   (blobs + ciphertexts/signatures made here)
//	go run keydata.go check  < ours.json       (our blobs + our ciphertexts/signatures, checked here)
//	go run keydata.go check-openbao < ours.json (our blobs for an OpenBao host, read with OpenBao's
//	                                             Policy tags from openbao/openbao sdk/helper/keysutil)
package main

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"
)

type BackupInfo struct {
	Time    time.Time `json:"time"`
	Version int       `json:"version"`
}

type KeyEntry struct {
	Key                    []byte          `json:"key"`
	HMACKey                []byte          `json:"hmac_key"`
	CreationTime           time.Time       `json:"time"`
	EC_X                   *big.Int        `json:"ec_x,omitempty"`
	EC_Y                   *big.Int        `json:"ec_y,omitempty"`
	EC_D                   *big.Int        `json:"ec_d,omitempty"`
	RSAKey                 *rsa.PrivateKey `json:"rsa_key,omitempty"`
	RSAPublicKey           *rsa.PublicKey  `json:"rsa_public_key,omitempty"`
	FormattedPublicKey     string          `json:"public_key,omitempty"`
	ConvergentVersion      int             `json:"convergent_version,omitempty"`
	DeprecatedCreationTime int64           `json:"creation_time"`
	ManagedKeyUUID         string          `json:"managed_key_id,omitempty"`
	CertificateChain       [][]byte        `json:"certificate_chain,omitempty"`
}

type HybridKeyConfig struct {
	PQCKeyType int
	ECKeyType  int
}

// The fields both engines' Policy share, in their order (embedded, so encoding/json flattens them).
type policyFields struct {
	Name                     string              `json:"name"`
	Key                      []byte              `json:"key,omitempty"`
	KeySize                  int                 `json:"key_size,omitempty"`
	Keys                     map[string]KeyEntry `json:"keys"`
	Derived                  bool                `json:"derived"`
	KDF                      int                 `json:"kdf"`
	ConvergentEncryption     bool                `json:"convergent_encryption"`
	Exportable               bool                `json:"exportable"`
	MinDecryptionVersion     int                 `json:"min_decryption_version"`
	MinEncryptionVersion     int                 `json:"min_encryption_version"`
	LatestVersion            int                 `json:"latest_version"`
	ArchiveVersion           int                 `json:"archive_version"`
	ArchiveMinVersion        int                 `json:"archive_min_version"`
	MinAvailableVersion      int                 `json:"min_available_version"`
	DeletionAllowed          bool                `json:"deletion_allowed"`
	ConvergentVersion        int                 `json:"convergent_version"`
	Type                     int                 `json:"type"`
	BackupInfo               *BackupInfo         `json:"backup_info"`
	RestoreInfo              *BackupInfo         `json:"restore_info"`
	AllowPlaintextBackup     bool                `json:"allow_plaintext_backup"`
	VersionTemplate          string              `json:"version_template"`
	StoragePrefix            string              `json:"storage_prefix"`
	AutoRotatePeriod         time.Duration       `json:"auto_rotate_period"`
	Imported                 bool
	AllowImportedKeyRotation bool
}

// Vault's Policy: the shared fields, then ParameterSet and HybridConfig.
type Policy struct {
	policyFields
	ParameterSet string
	HybridConfig HybridKeyConfig
}

// OpenBao's Policy: Vault's fields up to AllowImportedKeyRotation, then soft_deleted
// (no ParameterSet, HybridConfig); its KeyType numbers hmac 10.
type baoPolicy struct {
	policyFields
	SoftDeleted bool `json:"soft_deleted"`
}

type baoKeyData struct {
	Policy       *baoPolicy    `json:"policy"`
	ArchivedKeys *archivedKeys `json:"archived_keys"`
}

// Our blobs written for an OpenBao host: OpenBao's fields exactly, OpenBao's type numbers.
func checkOpenBao() {
	var in map[string]string
	must(json.NewDecoder(os.Stdin).Decode(&in))
	res := map[string]string{}
	for _, name := range []string{"aes", "hmac"} {
		raw, err := base64.StdEncoding.DecodeString(in[name])
		if err != nil {
			res[name] = "error: " + err.Error()
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var kd baoKeyData
		if err := dec.Decode(&kd); err != nil {
			res[name] = "error: " + err.Error()
			continue
		}
		res[name] = fmt.Sprintf("type %d", kd.Policy.Type)
		if name == "hmac" {
			m := hmac.New(sha256.New, kd.Policy.Keys[strconv.Itoa(kd.Policy.LatestVersion)].Key)
			m.Write([]byte(in["message"]))
			if "vault:v1:"+base64.StdEncoding.EncodeToString(m.Sum(nil)) != in["hmac_mac"] {
				res[name] += ", mac mismatch"
			}
		}
	}
	must(json.NewEncoder(os.Stdout).Encode(res))
}

type archivedKeys struct {
	Keys []KeyEntry `json:"keys"`
}

type KeyData struct {
	Policy       *Policy       `json:"policy"`
	ArchivedKeys *archivedKeys `json:"archived_keys"`
}

// jsonutil.EncodeJSON: json.Encoder (HTML escaping, trailing newline).
func encodeBlob(kd *KeyData) string {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(kd); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func entryNow(t time.Time) KeyEntry {
	hk := make([]byte, 32)
	_, err := rand.Read(hk)
	must(err)
	return KeyEntry{HMACKey: hk, CreationTime: t, DeprecatedCreationTime: t.Unix()}
}

func newPolicy(name string, typ int, entries []KeyEntry, minDecryption int) *KeyData {
	p := &Policy{policyFields: policyFields{
		Name: name, Type: typ, Keys: map[string]KeyEntry{}, Exportable: true, AllowPlaintextBackup: true,
		ConvergentVersion: -1, MinDecryptionVersion: minDecryption, LatestVersion: len(entries),
		ArchiveVersion: len(entries),
		BackupInfo:     &BackupInfo{Time: time.Now(), Version: len(entries)},
	}}
	archive := []KeyEntry{{}}
	for i, e := range entries {
		v := i + 1
		if v >= minDecryption {
			p.Keys[strconv.Itoa(v)] = e
		}
		archive = append(archive, e)
	}
	return &KeyData{Policy: p, ArchivedKeys: &archivedKeys{Keys: archive}}
}

func sealGCM(key, pt []byte, version int) string {
	block, err := aes.NewCipher(key)
	must(err)
	gcm, err := cipher.NewGCM(block)
	must(err)
	nonce := make([]byte, 12)
	_, err = rand.Read(nonce)
	must(err)
	return fmt.Sprintf("vault:v%d:%s", version, base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, pt, nil)))
}

func openGCM(key []byte, ct string) ([]byte, error) {
	parts := strings.SplitN(ct, ":", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, raw[:12], raw[12:], nil)
}

func sigBytes(s string) []byte {
	parts := strings.SplitN(s, ":", 3)
	b, err := base64.StdEncoding.DecodeString(parts[2])
	must(err)
	return b
}

func make_() {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		loc = time.FixedZone("EST", -5*3600)
	}
	now := time.Now().In(loc)
	out := map[string]string{}
	msg := []byte("made by Go")
	out["message"] = string(msg)

	// aes256-gcm96 with three versions; v1 only in the archive.
	var aesEntries []KeyEntry
	for i := 0; i < 3; i++ {
		e := entryNow(now.Add(time.Duration(i) * time.Hour))
		e.Key = make([]byte, 32)
		_, err := rand.Read(e.Key)
		must(err)
		aesEntries = append(aesEntries, e)
		out[fmt.Sprintf("aes_ct_v%d", i+1)] = sealGCM(e.Key, msg, i+1)
	}
	out["aes"] = encodeBlob(newPolicy("go-aes", 0, aesEntries, 2))
	mac := hmac.New(sha256.New, aesEntries[2].HMACKey)
	mac.Write(msg)
	out["aes_hmac"] = "vault:v3:" + base64.StdEncoding.EncodeToString(mac.Sum(nil))

	// rsa-2048 (rsa.GenerateKey precomputes, as Vault's keys are).
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	re := entryNow(now)
	re.RSAKey = rk
	re.RSAPublicKey = &rk.PublicKey
	out["rsa"] = encodeBlob(newPolicy("go-rsa", 3, []KeyEntry{re}, 1))
	rct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &rk.PublicKey, msg, nil)
	must(err)
	out["rsa_ct"] = "vault:v1:" + base64.StdEncoding.EncodeToString(rct)
	digest := sha256.Sum256(msg)
	rsig, err := rsa.SignPSS(rand.Reader, rk, crypto.SHA256, digest[:], nil)
	must(err)
	out["rsa_sig"] = "vault:v1:" + base64.StdEncoding.EncodeToString(rsig)

	// ecdsa-p256
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	ee := entryNow(now)
	ee.EC_X, ee.EC_Y, ee.EC_D = ek.X, ek.Y, ek.D
	der, err := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	must(err)
	ee.FormattedPublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	out["ec"] = encodeBlob(newPolicy("go-ec", 1, []KeyEntry{ee}, 1))
	esig, err := ecdsa.SignASN1(rand.Reader, ek, digest[:])
	must(err)
	out["ec_sig"] = "vault:v1:" + base64.StdEncoding.EncodeToString(esig)

	// ed25519
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	de := entryNow(now)
	de.Key = priv
	de.FormattedPublicKey = base64.StdEncoding.EncodeToString(pub)
	out["ed"] = encodeBlob(newPolicy("go-ed", 2, []KeyEntry{de}, 1))
	out["ed_sig"] = "vault:v1:" + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))

	must(json.NewEncoder(os.Stdout).Encode(out))
}

func decodeStrict(blob string) (*KeyData, error) {
	raw, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var kd KeyData
	if err := dec.Decode(&kd); err != nil {
		return nil, err
	}
	return &kd, nil
}

func check() {
	var in map[string]string
	must(json.NewDecoder(os.Stdin).Decode(&in))
	msg := []byte(in["message"])
	digest := sha256.Sum256(msg)
	res := map[string]string{}
	report := func(name string, ok bool, err error) {
		switch {
		case err != nil:
			res[name] = "error: " + err.Error()
		case ok:
			res[name] = "ok"
		default:
			res[name] = "mismatch"
		}
	}
	latest := func(kd *KeyData) KeyEntry { return kd.Policy.Keys[strconv.Itoa(kd.Policy.LatestVersion)] }

	if kd, err := decodeStrict(in["aes"]); err != nil {
		report("aes", false, err)
	} else {
		pt, err := openGCM(latest(kd).Key, in["aes_ct"])
		report("aes", err == nil && bytes.Equal(pt, msg), err)
		ok := len(kd.ArchivedKeys.Keys) == kd.Policy.LatestVersion+1 && kd.ArchivedKeys.Keys[0].CreationTime.IsZero()
		report("aes_archive", ok, nil)
		report("aes_times", !latest(kd).CreationTime.IsZero() && latest(kd).DeprecatedCreationTime == latest(kd).CreationTime.Unix(), nil)
	}
	if kd, err := decodeStrict(in["rsa"]); err != nil {
		report("rsa", false, err)
	} else {
		k := latest(kd).RSAKey
		if err := k.Validate(); err != nil {
			report("rsa", false, err)
		} else {
			pt, err := rsa.DecryptOAEP(sha256.New(), rand.Reader, k, sigBytes(in["rsa_ct"]), nil)
			report("rsa", err == nil && bytes.Equal(pt, msg), err)
			err = rsa.VerifyPSS(latest(kd).RSAPublicKey, crypto.SHA256, digest[:], sigBytes(in["rsa_sig"]), nil)
			report("rsa_sig", err == nil, err)
		}
	}
	if kd, err := decodeStrict(in["ec"]); err != nil {
		report("ec", false, err)
	} else {
		e := latest(kd)
		pk := ecdsa.PublicKey{Curve: elliptic.P256(), X: e.EC_X, Y: e.EC_Y}
		x, y := elliptic.P256().ScalarBaseMult(e.EC_D.Bytes())
		report("ec", x.Cmp(e.EC_X) == 0 && y.Cmp(e.EC_Y) == 0, nil)
		report("ec_sig", ecdsa.VerifyASN1(&pk, digest[:], sigBytes(in["ec_sig"])), nil)
	}
	if kd, err := decodeStrict(in["ed"]); err != nil {
		report("ed", false, err)
	} else {
		e := latest(kd)
		pub, err := base64.StdEncoding.DecodeString(e.FormattedPublicKey)
		report("ed", err == nil && len(e.Key) == 64 && bytes.Equal(ed25519.PrivateKey(e.Key).Public().(ed25519.PublicKey), pub), err)
		report("ed_sig", ed25519.Verify(pub, msg, sigBytes(in["ed_sig"])), nil)
	}
	if kd, err := decodeStrict(in["hmac"]); err != nil {
		report("hmac", false, err)
	} else {
		m := hmac.New(sha256.New, latest(kd).Key)
		m.Write(msg)
		want := "vault:v1:" + base64.StdEncoding.EncodeToString(m.Sum(nil))
		report("hmac", want == in["hmac_mac"] && kd.Policy.KeySize == len(latest(kd).Key), nil)
	}
	must(json.NewEncoder(os.Stdout).Encode(res))
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		check()
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "check-openbao" {
		checkOpenBao()
		return
	}
	make_()
}
