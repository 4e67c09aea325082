"""The test OIDC issuer (tests/fixtures/oidc_issuer.py) itself: what it serves, how it signs, and
that its amr follows Zitadel's rule. The apiserver's verdicts on its tokens are in test_kube_identity.py."""
import base64
import json
import ssl
import urllib.error
import urllib.request

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fixtures.oidc_issuer import zitadel_amr

pytestmark = pytest.mark.lab


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def get(issuer, path, context):
    with urllib.request.urlopen(issuer.url + path, context=context, timeout=10) as resp:
        return json.loads(resp.read())


def public_key(jwk):
    def number(name):
        return int.from_bytes(unb64(jwk[name]), "big")
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(number("e"), number("n")).public_key()
    return ec.EllipticCurvePublicNumbers(number("x"), number("y"), ec.SECP256R1()).public_key()


def verify(token, jwks):
    """Signature check as a relying party does it: key by kid and alg from the JWKS."""
    header_b64, claims_b64, signature_b64 = token.split(".")
    header, signature = json.loads(unb64(header_b64)), unb64(signature_b64)
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"] and k["alg"] == header["alg"])
    data = (header_b64 + "." + claims_b64).encode()
    if header["alg"] == "RS256":
        public_key(jwk).verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public_key(jwk).verify(der, data, ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64(claims_b64))


@pytest.mark.parametrize("methods, amr", [
    (("password",), ["pwd"]), (("totp",), ["otp"]), (("u2f",), ["user"]), (("idp",), []),
    (("passkey",), ["user", "mfa"]), (("password", "totp"), ["pwd", "otp", "mfa"]),
    (("password", "u2f"), ["pwd", "user", "mfa"]), (("idp", "totp"), ["otp"]),
])
def test_amr_follows_zitadels_auth_method_types_to_amr(methods, amr):
    assert zitadel_amr(*methods) == amr


def test_discovery_and_jwks_are_served_over_tls_the_issuers_ca_vouches_for_on_127_0_0_1(oidc_issuer):
    context = ssl.create_default_context(cadata=oidc_issuer.ca_pem)
    discovery = get(oidc_issuer, "/.well-known/openid-configuration", context)
    assert discovery["issuer"] == oidc_issuer.url
    assert discovery["jwks_uri"] == oidc_issuer.url + "/oauth/v2/keys"
    jwks = get(oidc_issuer, "/oauth/v2/keys", context)
    assert sorted((k["kty"], k["alg"]) for k in jwks["keys"]) == [("EC", "ES256"), ("RSA", "RS256")]
    with pytest.raises(urllib.error.URLError):
        get(oidc_issuer, "/oauth/v2/keys", ssl.create_default_context())


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_tokens_verify_against_the_published_keys_and_carry_zitadels_claims(oidc_issuer, alg):
    claims = verify(oidc_issuer.token(alg=alg, sub="42", roles=oidc_issuer.roles("viewer")), oidc_issuer.jwks())
    assert claims["iss"] == oidc_issuer.url and claims["sub"] == "42"
    assert claims["aud"] == [oidc_issuer.client_id, oidc_issuer.project_id]
    assert claims["exp"] > claims["iat"]
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    roles = {"viewer": {oidc_issuer.org_id: oidc_issuer.org_domain}}
    assert claims[f"urn:zitadel:iam:org:project:{oidc_issuer.project_id}:roles"] == roles
    assert claims["urn:zitadel:iam:org:project:roles"] == roles


def test_a_forged_token_does_not_verify_against_the_published_keys(oidc_issuer):
    with pytest.raises(InvalidSignature):
        verify(oidc_issuer.token(forged=True), oidc_issuer.jwks())


def test_overrides_change_one_thing_and_drop_removes_claims(oidc_issuer):
    claims = verify(oidc_issuer.token(expires_in=-60, audience=["other"], drop=("amr", "email")), oidc_issuer.jwks())
    assert claims["exp"] < claims["iat"] and claims["aud"] == ["other"]
    assert "amr" not in claims and "email" not in claims and claims["preferred_username"]
