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
