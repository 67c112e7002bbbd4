// Go's x509.CreateCertificateRequest from a template as Vault's transit parses it
// (pem.Decode + x509.ParseCertificateRequest, Signature and SignatureAlgorithm
// cleared), for test/transit/certificates.test.ts. Standard library only.
//
//	stdin: {"key": PKCS #8 PEM, "csr": template PEM or ""}
//	stdout: {"csr": PEM} or {"error": text}
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// stdin: {"key": pkcs8 PEM, "csr": template PEM}; stdout: {"csr": PEM} or {"error": text}
func main() {
	var in struct{ Key, Csr string }
	json.NewDecoder(os.Stdin).Decode(&in)
	out := map[string]string{}
	csr, err := run(in.Key, in.Csr)
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["csr"] = csr
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func run(keyPem, tmpl string) (string, error) {
	kb, _ := pem.Decode([]byte(keyPem))
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return "", err
	}
	t := &x509.CertificateRequest{}
	if tmpl != "" {
		b, _ := pem.Decode([]byte(tmpl))
		if b == nil {
			return "", errors.New("could not decode PEM certificate request")
		}
		t, err = x509.ParseCertificateRequest(b.Bytes)
		if err != nil {
			return "", err
		}
	}
	t.Signature = nil
	t.SignatureAlgorithm = x509.UnknownSignatureAlgorithm
	der, err := x509.CreateCertificateRequest(rand.Reader, t, k.(crypto.Signer))
	if err != nil {
		return "", fmt.Errorf("could not create the cerfificate request: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}
