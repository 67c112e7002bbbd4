// Vault's set-certificate checks with Go's own parsers (pem.Decode,
// x509.ParseCertificate, the chain-shape checks of keysutil
// ValidateAndPersistCertificateChain, ValidateLeafCertKeyMatch's key
// comparison), for test/transit/certificates.test.ts. Standard library only.
//
//	stdin: {"pub": PKIX PEM of the key version, "type": transit key type, "chain": PEM}
//	stdout: {} when Vault would store the chain, else {"error": Vault's message}
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

func main() {
	var in struct{ Pub, Type, Chain string }
	json.NewDecoder(os.Stdin).Decode(&in)
	out := map[string]string{}
	if err := run(in.Pub, in.Type, in.Chain); err != nil {
		out["error"] = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func run(pubPem, keyType, chainPem string) error {
	b, _ := pem.Decode([]byte(pubPem))
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return err
	}
	var blocks []*pem.Block
	rest := []byte(strings.TrimSpace(chainPem))
	for len(rest) > 0 {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return errors.New("could not decode PEM block in certificate chain")
		}
		if blk.Type == "CERTIFICATE" || blk.Type == "X05 CERTIFICATE" {
			blocks = append(blocks, blk)
		}
	}
	if len(blocks) == 0 {
		return errors.New("provided certificate chain did not contain any valid PEM certificate")
	}
	var chain []*x509.Certificate
	for _, blk := range blocks {
		// Vault is built with Go >= 1.23, whose parser refuses negative serial
		// numbers right after the version (GODEBUG x509negativeserial=0).
		if negativeSerial(blk.Bytes) {
			return errors.New("failed to parse certificate in certificate chain: x509: negative serial number")
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("failed to parse certificate in certificate chain: %w", err)
		}
		chain = append(chain, c)
	}
	if chain[0].BasicConstraintsValid && chain[0].IsCA {
		return errors.New("failed to persist certificate chain: certificate in the first position is not a leaf certificate")
	}
	for _, c := range chain[1:] {
		if c.BasicConstraintsValid && !c.IsCA {
			return errors.New("failed to persist certificate chain: provided certificate chain contains more than one leaf certificate")
		}
	}
	var eq bool
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if chain[0].PublicKeyAlgorithm != x509.ECDSA {
			return fmt.Errorf("failed to persist certificate chain: could not validate key match between leaf certificate key and key version in transit: provided leaf certificate public key algorithm '%s' does not match the transit key type '%s'", chain[0].PublicKeyAlgorithm, keyType)
		}
		eq = k.Equal(chain[0].PublicKey)
	case ed25519.PublicKey:
		if chain[0].PublicKeyAlgorithm != x509.Ed25519 {
			return fmt.Errorf("failed to persist certificate chain: could not validate key match between leaf certificate key and key version in transit: provided leaf certificate public key algorithm '%s' does not match the transit key type '%s'", chain[0].PublicKeyAlgorithm, keyType)
		}
		eq = k.Equal(chain[0].PublicKey)
	case *rsa.PublicKey:
		if chain[0].PublicKeyAlgorithm != x509.RSA {
			return fmt.Errorf("failed to persist certificate chain: could not validate key match between leaf certificate key and key version in transit: provided leaf certificate public key algorithm '%s' does not match the transit key type '%s'", chain[0].PublicKeyAlgorithm, keyType)
		}
		eq = k.Equal(chain[0].PublicKey)
	}
	if !eq {
		return errors.New("failed to persist certificate chain: leaf certificate public key does match the key version selected")
	}
	return nil
}

// readTLV reads one DER element as cryptobyte does (definite, minimal lengths).
func readTLV(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return 0, nil, nil, false
	}
	tag, n, off := b[0], int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k || b[2] == 0 {
			return 0, nil, nil, false
		}
		n = 0
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[2+i])
		}
		if n < 0x80 {
			return 0, nil, nil, false
		}
		off = 2 + k
	}
	if len(b) < off+n {
		return 0, nil, nil, false
	}
	return tag, b[off : off+n], b[off+n:], true
}

// negativeSerial: the certificate parses up to its serial number, which is negative.
func negativeSerial(der []byte) bool {
	tag, cert, _, ok := readTLV(der)
	if !ok || tag != 0x30 {
		return false
	}
	tag, tbs, _, ok := readTLV(cert)
	if !ok || tag != 0x30 {
		return false
	}
	if len(tbs) > 0 && tbs[0] == 0xa0 {
		var v []byte
		if _, v, tbs, ok = readTLV(tbs); !ok {
			return false
		}
		t, i, rest, ok := readTLV(v)
		if !ok || t != 0x02 || len(rest) != 0 || len(i) == 0 || len(i) > 1 || i[0] > 2 {
			return false
		}
	}
	tag, serial, _, ok := readTLV(tbs)
	if !ok || tag != 0x02 || len(serial) == 0 {
		return false
	}
	if len(serial) > 1 && (serial[0] == 0 && serial[1]&0x80 == 0 || serial[0] == 0xff && serial[1]&0x80 != 0) {
		return false
	}
	return serial[0]&0x80 != 0
}
