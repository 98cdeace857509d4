#!/usr/bin/env bash
# Signs a Windows executable or installer (Authenticode, SHA-256) with
# osslsigncode, so Windows SmartScreen and Defender see who published it.
#
#   packaging/windows/sign.sh IN.exe OUT.exe
#
# The certificate comes from the environment, never from the repository:
#   SPARE_SIGN_PKCS12 + SPARE_SIGN_PASS_FILE  a .pfx/.p12 and a file with its password, or
#   SPARE_SIGN_CERT + SPARE_SIGN_KEY          PEM certificate chain and private key
#   SPARE_SIGN_TIMESTAMP                      an RFC 3161 time-stamp URL (release builds: the
#                                             signature then outlives the certificate);
#                                             empty for offline builds
# A hardware-token (EV) certificate signs through osslsigncode's PKCS#11
# options instead; see packaging/README.md.
set -euo pipefail
in=${1:?usage: sign.sh IN.exe OUT.exe}
out=${2:?usage: sign.sh IN.exe OUT.exe}
args=(sign -h sha256 -n Spare -i https://github.com/sparegpu/spare -in "$in" -out "$out")
if [ -n "${SPARE_SIGN_PKCS12:-}" ]; then
	args+=(-pkcs12 "$SPARE_SIGN_PKCS12" -readpass "${SPARE_SIGN_PASS_FILE:?SPARE_SIGN_PASS_FILE names the file with the .p12 password}")
elif [ -n "${SPARE_SIGN_CERT:-}" ]; then
	args+=(-certs "$SPARE_SIGN_CERT" -key "${SPARE_SIGN_KEY:?SPARE_SIGN_KEY names the PEM private key}")
else
	echo "sign.sh: set SPARE_SIGN_PKCS12 (+ SPARE_SIGN_PASS_FILE) or SPARE_SIGN_CERT + SPARE_SIGN_KEY" >&2
	exit 2
fi
[ -z "${SPARE_SIGN_TIMESTAMP:-}" ] || args+=(-ts "$SPARE_SIGN_TIMESTAMP")
rm -f "$out"
osslsigncode "${args[@]}"
