"""Transit through a real Vault client: Debian's python3-hvac (0.11.2) against the dev host.

Run by test/host/hvac-client.test.ts, which starts the dev host with the plugin, mounts transit at a fresh
path and passes VAULT_ADDR, VAULT_TOKEN and TRANSIT_MOUNT. Written for this project from Vault's documented
transit API and hvac's public client API; the behaviours follow the areas hvac's own transit integration
suite walks (keys, config, rotate, export, encrypt/decrypt/rewrap, datakey, random, hash, hmac, sign/verify
with PSS salt lengths, backup/restore, trim), each checked on the server's answer: response fields, round
trips, and the hvac exception class for the status Vault answers (400 InvalidRequest, 500
InternalServerError for the caller mistakes Vault reports as plain Go errors).

Where hvac 0.11.2 has no parameter (auto_rotate_period, salt_length) or validates on the client side, the
case sends the raw request through the client's own adapter so that the server's answer is what is tested.
"""

import base64
import hashlib
import json
import os
import uuid

import hvac
import pytest
from hvac import exceptions

MOUNT = os.environ.get("TRANSIT_MOUNT", "transit")


def b64(text):
    return base64.b64encode(text.encode("utf8")).decode("ascii")


PLAIN = b64("hi itsame hvac")
INPUT = b64("hash this ish")


@pytest.fixture(scope="module")
def client():
    c = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
    assert c.is_authenticated()
    return c


@pytest.fixture
def transit(client):
    return client.secrets.transit


@pytest.fixture
def name(transit):
    """A fresh aes256-gcm96 key (Vault's default type) for each case."""
    key = "k-" + uuid.uuid4().hex[:12]
    transit.create_key(name=key, mount_point=MOUNT)
    return key


def raw_post(client, path, body=None):
    return client.adapter.post("/v1/{}/{}".format(MOUNT, path), json=body or {})


def raw_get(client, path):
    return client.adapter.get("/v1/{}/{}".format(MOUNT, path))


def message(exc_info):
    return str(exc_info.value)


# ---- keys: create, read, list, delete, rotate, config -------------------------------------------------


def test_create_key_answers_with_the_key(transit):
    key = "c-" + uuid.uuid4().hex[:12]
    created = transit.create_key(name=key, mount_point=MOUNT)
    # current Vault answers 200 with the key's description (older ones an empty 204)
    assert created["data"]["name"] == key
    read = transit.read_key(name=key, mount_point=MOUNT)["data"]
    assert read["name"] == key
    assert read["type"] == "aes256-gcm96"
    assert read["latest_version"] == 1


def test_create_key_with_auto_rotate_period(client, transit):
    key = "c-" + uuid.uuid4().hex[:12]
    raw_post(client, "keys/" + key, {"auto_rotate_period": "1h"})
    assert transit.read_key(name=key, mount_point=MOUNT)["data"]["auto_rotate_period"] == 3600


def test_create_key_below_the_minimum_auto_rotate_period_is_refused(client):
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "keys/c-" + uuid.uuid4().hex[:12], {"auto_rotate_period": "1m"})
    assert "auto rotate period must be 0 to disable or at least an hour" in message(e)


def test_read_key(transit, name):
    data = transit.read_key(name=name, mount_point=MOUNT)["data"]
    assert data["name"] == name
    assert data["deletion_allowed"] is False
    assert data["exportable"] is False
    assert sorted(data["keys"]) == ["1"]


def test_read_missing_key_is_404(transit):
    with pytest.raises(exceptions.InvalidPath):
        transit.read_key(name="no-such-key-" + uuid.uuid4().hex[:8], mount_point=MOUNT)


def test_list_keys_on_a_fresh_mount(client):
    mount = "{}-list-{}".format(MOUNT, uuid.uuid4().hex[:8])
    client.sys.enable_secrets_engine(backend_type="transit", path=mount)
    try:
        client.secrets.transit.create_key(name="testkey", mount_point=mount)
        listed = client.secrets.transit.list_keys(mount_point=mount)
        assert listed["data"]["keys"] == ["testkey"]
    finally:
        client.sys.disable_secrets_engine(path=mount)


def test_delete_key_needs_deletion_allowed(transit, name):
    with pytest.raises(exceptions.InvalidRequest) as e:
        transit.delete_key(name=name, mount_point=MOUNT)
    assert "deletion is not allowed for this key" in message(e)
    transit.update_key_configuration(name=name, deletion_allowed=True, mount_point=MOUNT)
    deleted = transit.delete_key(name=name, mount_point=MOUNT)
    assert deleted.status_code == 204
    with pytest.raises(exceptions.InvalidPath):
        transit.read_key(name=name, mount_point=MOUNT)


def test_rotate_key_adds_a_version(transit, name):
    rotated = transit.rotate_key(name=name, mount_point=MOUNT)
    assert rotated
    data = transit.read_key(name=name, mount_point=MOUNT)["data"]
    assert data["latest_version"] == 2
    assert sorted(data["keys"]) == ["1", "2"]


# ---- export -------------------------------------------------------------------------------------------


def test_export_hmac_key(transit):
    key = "x-" + uuid.uuid4().hex[:12]
    transit.create_key(name=key, exportable=True, mount_point=MOUNT)
    exported = transit.export_key(name=key, key_type="hmac-key", mount_point=MOUNT)["data"]
    assert exported["name"] == key
    assert len(exported["keys"]) == 1
    assert len(base64.b64decode(exported["keys"]["1"])) == 32


def test_export_invalid_type(client, transit):
    key = "x-" + uuid.uuid4().hex[:12]
    transit.create_key(name=key, exportable=True, mount_point=MOUNT)
    with pytest.raises(exceptions.ParamValidationError):  # hvac checks the type before sending
        transit.export_key(name=key, key_type="kitty-cat-key", mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest) as e:  # and the server refuses it too
        raw_get(client, "export/kitty-cat-key/" + key)
    assert "invalid export type: kitty-cat-key" in message(e)


def test_export_of_a_non_exportable_key_is_refused(transit, name):
    with pytest.raises(exceptions.InvalidRequest) as e:
        transit.export_key(name=name, key_type="encryption-key", mount_point=MOUNT)
    assert "private key material is not exportable" in message(e)


# ---- encrypt, decrypt, rewrap -------------------------------------------------------------------------


def test_encrypt_data(transit, name):
    data = transit.encrypt_data(name=name, plaintext=PLAIN, mount_point=MOUNT)["data"]
    assert data["ciphertext"].startswith("vault:v1:")
    assert data["key_version"] == 1


def test_decrypt_data_round_trip(transit, name):
    ct = transit.encrypt_data(name=name, plaintext=PLAIN, mount_point=MOUNT)["data"]["ciphertext"]
    pt = transit.decrypt_data(name=name, ciphertext=ct, mount_point=MOUNT)["data"]["plaintext"]
    assert pt == PLAIN


def test_rewrap_data_after_rotation(transit, name):
    ct = transit.encrypt_data(name=name, plaintext=PLAIN, mount_point=MOUNT)["data"]["ciphertext"]
    transit.rotate_key(name=name, mount_point=MOUNT)
    rewrapped = transit.rewrap_data(name=name, ciphertext=ct, mount_point=MOUNT)["data"]["ciphertext"]
    assert rewrapped.startswith("vault:v2:")
    assert transit.decrypt_data(name=name, ciphertext=rewrapped, mount_point=MOUNT)["data"]["plaintext"] == PLAIN


def test_encrypt_without_plaintext_is_refused(client, name):
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "encrypt/" + name, {})
    assert "missing plaintext to encrypt" in message(e)


def test_decrypt_without_ciphertext_is_refused(client, name):
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "decrypt/" + name, {})
    assert "missing ciphertext to decrypt" in message(e)


# ---- datakey, random, hash, hmac ----------------------------------------------------------------------


def test_generate_data_key_plaintext(transit, name):
    data = transit.generate_data_key(name=name, key_type="plaintext", mount_point=MOUNT)["data"]
    assert data["ciphertext"].startswith("vault:v1:")
    assert len(base64.b64decode(data["plaintext"])) == 32
    # the wrapped copy decrypts to the plaintext copy
    unwrapped = transit.decrypt_data(name=name, ciphertext=data["ciphertext"], mount_point=MOUNT)["data"]
    assert unwrapped["plaintext"] == data["plaintext"]


def test_generate_data_key_invalid_type(client, transit, name):
    with pytest.raises(exceptions.ParamValidationError):
        transit.generate_data_key(name=name, key_type="kitty-cat-key", mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "datakey/kitty-cat-key/" + name)
    assert "Invalid path, must be 'plaintext' or 'wrapped'" in message(e)


def test_generate_random_bytes(transit):
    data = transit.generate_random_bytes(n_bytes=32, mount_point=MOUNT)["data"]
    assert len(base64.b64decode(data["random_bytes"])) == 32


@pytest.mark.parametrize("algorithm,output_format", [("sha2-256", "hex"), ("sha2-512", "base64")])
def test_hash_data(transit, algorithm, output_format):
    # the expected sum comes from Python's hashlib, independent of the server
    digest = hashlib.new(algorithm.replace("sha2-", "sha"), base64.b64decode(INPUT)).digest()
    want = digest.hex() if output_format == "hex" else base64.b64encode(digest).decode("ascii")
    data = transit.hash_data(hash_input=INPUT, algorithm=algorithm, output_format=output_format, mount_point=MOUNT)
    assert data["data"]["sum"] == want


def test_hash_data_invalid_algorithm(client, transit):
    with pytest.raises(exceptions.ParamValidationError):
        transit.hash_data(hash_input=INPUT, algorithm="meow2-256", mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "hash", {"input": INPUT, "algorithm": "meow2-256"})
    assert "unsupported algorithm meow2-256" in message(e)


def test_hash_data_invalid_output_format(client, transit):
    with pytest.raises(exceptions.ParamValidationError):
        transit.hash_data(hash_input=INPUT, output_format="kitty64", mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "hash", {"input": INPUT, "format": "kitty64"})
    assert "unsupported encoding format kitty64" in message(e)


def test_generate_hmac_and_verify(transit, name):
    mac = transit.generate_hmac(name=name, hash_input=INPUT, algorithm="sha2-256", mount_point=MOUNT)["data"]["hmac"]
    assert mac.startswith("vault:v1:")
    ok = transit.verify_signed_data(name=name, hash_input=INPUT, hmac=mac, mount_point=MOUNT)["data"]["valid"]
    assert ok is True
    bad = transit.verify_signed_data(name=name, hash_input=b64("other"), hmac=mac, mount_point=MOUNT)
    assert bad["data"]["valid"] is False


def test_generate_hmac_invalid_algorithm(client, transit, name):
    with pytest.raises(exceptions.ParamValidationError):
        transit.generate_hmac(name=name, hash_input=INPUT, algorithm="meow2-256", mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest) as e:
        raw_post(client, "hmac/" + name, {"input": INPUT, "algorithm": "meow2-256"})
    assert 'unsupported algorithm "meow2-256"' in message(e)


# ---- sign and verify (ed25519 as hvac's suite uses, and rsa-2048 where PSS salt lengths matter) ------

SALTS = [None, "auto", "hash", "-1", "0", "1"]


@pytest.fixture(scope="module")
def signing_keys(client):
    keys = {}
    for key_type in ("ed25519", "rsa-2048"):
        key = "s-{}-{}".format(key_type, uuid.uuid4().hex[:8])
        client.secrets.transit.create_key(name=key, key_type=key_type, mount_point=MOUNT)
        keys[key_type] = key
    return keys


def sign(client, key, salt, **extra):
    body = {"input": INPUT, "hash_algorithm": "sha2-256", "signature_algorithm": "pss"}
    if salt is not None:
        body["salt_length"] = salt
    body.update(extra)
    return raw_post(client, "sign/" + key, body)["data"]


def verify(client, key, signature, salt, **extra):
    body = {"input": INPUT, "signature": signature, "hash_algorithm": "sha2-256", "signature_algorithm": "pss"}
    if salt is not None:
        body["salt_length"] = salt
    body.update(extra)
    return raw_post(client, "verify/" + key, body)["data"]


def test_sign_and_verify_through_hvac_methods(transit, signing_keys):
    key = signing_keys["ed25519"]
    sig = transit.sign_data(name=key, hash_input=INPUT, mount_point=MOUNT)["data"]["signature"]
    assert sig.startswith("vault:v1:")
    assert len(base64.b64decode(sig.split(":")[2])) == 64  # Ed25519 signatures are 64 bytes
    ok = transit.verify_signed_data(name=key, hash_input=INPUT, signature=sig, mount_point=MOUNT)
    assert ok["data"]["valid"] is True
    other = transit.verify_signed_data(name=key, hash_input=b64("other"), signature=sig, mount_point=MOUNT)
    assert other["data"]["valid"] is False


@pytest.mark.parametrize("key_type", ["ed25519", "rsa-2048"])
@pytest.mark.parametrize("salt", SALTS)
def test_sign_with_salt_length(client, signing_keys, key_type, salt):
    data = sign(client, signing_keys[key_type], salt)
    assert data["signature"].startswith("vault:v1:")


@pytest.mark.parametrize("key_type", ["ed25519", "rsa-2048"])
@pytest.mark.parametrize("salt", SALTS)
def test_verify_with_salt_length(client, signing_keys, key_type, salt):
    key = signing_keys[key_type]
    sig = sign(client, key, salt)["signature"]
    assert verify(client, key, sig, salt)["valid"] is True


def test_verify_rsa_pss_with_another_fixed_salt_length_is_invalid(client, signing_keys):
    key = signing_keys["rsa-2048"]
    sig = sign(client, key, "hash")["signature"]  # salt of 32 bytes (SHA-256)
    assert verify(client, key, sig, "auto")["valid"] is True  # auto detects the salt
    assert verify(client, key, sig, "1")["valid"] is False


@pytest.mark.parametrize("op", ["sign", "verify"])
def test_invalid_hash_algorithm(client, transit, signing_keys, op):
    key = signing_keys["ed25519"]
    with pytest.raises(exceptions.ParamValidationError):
        if op == "sign":
            transit.sign_data(name=key, hash_input=INPUT, hash_algorithm="meow2-256", mount_point=MOUNT)
        else:
            transit.verify_signed_data(
                name=key, hash_input=INPUT, signature="vault:v1:AA==", hash_algorithm="meow2-256", mount_point=MOUNT
            )
    sig = sign(client, key, None)["signature"]
    with pytest.raises(exceptions.InvalidRequest) as e:
        if op == "sign":
            sign(client, key, None, hash_algorithm="meow2-256")
        else:
            verify(client, key, sig, None, hash_algorithm="meow2-256")
    assert 'invalid hash algorithm "meow2-256"' in message(e)


@pytest.mark.parametrize("op", ["sign", "verify"])
def test_invalid_signature_algorithm(client, transit, signing_keys, op):
    with pytest.raises(exceptions.ParamValidationError):
        transit.sign_data(
            name=signing_keys["rsa-2048"],
            hash_input=INPUT,
            signature_algorithm="pre-shared kitty cats",
            mount_point=MOUNT,
        )
    # Vault applies signature_algorithm to RSA keys only. For RSA, keysutil's Sign and Verify return an
    # errutil.InternalError naming it, which neither path maps to 400: a 500 for sign and verify alike.
    key = signing_keys["rsa-2048"]
    sig = sign(client, key, None)["signature"]
    with pytest.raises(exceptions.InternalServerError) as e:
        if op == "sign":
            sign(client, key, None, signature_algorithm="pre-shared kitty cats")
        else:
            verify(client, key, sig, None, signature_algorithm="pre-shared kitty cats")
    assert "unsupported rsa signature algorithm pre-shared kitty cats" in message(e)


@pytest.mark.parametrize("op", ["sign", "verify"])
@pytest.mark.parametrize(
    "salt,text",
    [
        ("foobar", "salt length neither 'auto', 'hash', nor an int: foobar"),
        ("-2", "salt length is invalid: -2"),
    ],
)
def test_invalid_salt_length(client, signing_keys, op, salt, text):
    key = signing_keys["ed25519"]
    sig = sign(client, key, "auto")["signature"]  # the error must come from the call under test
    with pytest.raises(exceptions.InvalidRequest) as e:
        if op == "sign":
            sign(client, key, salt)
        else:
            verify(client, key, sig, salt)
    assert text in message(e)


# ---- backup, restore, trim ----------------------------------------------------------------------------


def backup_of(transit, key):
    transit.update_key_configuration(name=key, exportable=True, allow_plaintext_backup=True, mount_point=MOUNT)
    return transit.backup_key(name=key, mount_point=MOUNT)["data"]["backup"]


def test_backup_key(transit, name):
    # a backup is base64 of Vault's JSON key-ring export: the policy (named after the key) and archived keys
    backup = json.loads(base64.b64decode(backup_of(transit, name)))
    assert set(backup) == {"policy", "archived_keys"}
    assert backup["policy"]["name"] == name


def test_backup_without_allow_plaintext_backup_is_500(transit, name):
    transit.update_key_configuration(name=name, exportable=True, allow_plaintext_backup=False, mount_point=MOUNT)
    with pytest.raises(exceptions.InternalServerError) as e:
        transit.backup_key(name=name, mount_point=MOUNT)
    assert "plaintext backup is disallowed on the policy" in message(e)


def test_restore_under_a_new_name_decrypts_old_ciphertext(transit, name):
    ct = transit.encrypt_data(name=name, plaintext=PLAIN, mount_point=MOUNT)["data"]["ciphertext"]
    backup = backup_of(transit, name)
    new = "r-" + uuid.uuid4().hex[:12]
    restored = transit.restore_key(backup=backup, name=new, mount_point=MOUNT)
    assert restored.status_code == 204
    assert transit.decrypt_data(name=new, ciphertext=ct, mount_point=MOUNT)["data"]["plaintext"] == PLAIN


def test_restore_with_force_over_the_existing_key(transit, name):
    backup = backup_of(transit, name)
    transit.rotate_key(name=name, mount_point=MOUNT)
    restored = transit.restore_key(backup=backup, name=name, force=True, mount_point=MOUNT)
    assert restored.status_code == 204
    assert transit.read_key(name=name, mount_point=MOUNT)["data"]["latest_version"] == 1


def test_restore_over_an_existing_key_without_force_is_500(transit, name):
    backup = backup_of(transit, name)
    with pytest.raises(exceptions.InternalServerError) as e:
        transit.restore_key(backup=backup, mount_point=MOUNT)
    assert 'key "{}" already exists'.format(name) in message(e)


def test_trim_key(transit, name):
    for _ in range(10):
        transit.rotate_key(name=name, mount_point=MOUNT)
    transit.update_key_configuration(name=name, min_decryption_version=3, min_encryption_version=9, mount_point=MOUNT)
    trimmed = transit.trim_key(name=name, min_version=2, mount_point=MOUNT)
    assert trimmed
    data = transit.read_key(name=name, mount_point=MOUNT)["data"]
    assert data["min_available_version"] == 2
    assert sorted(int(v) for v in data["keys"]) == list(range(2, 12))


def test_trim_above_min_decryption_version_is_refused(transit, name):
    for _ in range(3):
        transit.rotate_key(name=name, mount_point=MOUNT)
    transit.update_key_configuration(name=name, min_decryption_version=2, min_encryption_version=3, mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest) as e:
        transit.trim_key(name=name, min_version=3, mount_point=MOUNT)
    assert "minimum available version cannot be greater than minimum decryption version" in message(e)
