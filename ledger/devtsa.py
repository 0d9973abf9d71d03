"""A local RFC 3161 time-stamping authority for development and tests: OpenSSL's own ``openssl ts -reply``
behind a tiny HTTP endpoint (``ledger tsa up``; the tests start one the same way).

On first use it generates a test CA into a private directory (``<home>/tsa``, mode 0700, every file 0600): an
EC P-256 root, and a TSA certificate issued by it with the critical ``timeStamping`` extended key usage RFC 3161
§2.3 requires. Nothing of it is committed; a verifier trusts it only when given its root with ``--tsa-root``.
The endpoint answers ``POST`` bodies of type ``application/timestamp-query`` with the TSA's
``application/timestamp-reply`` (RFC 3161 §3.4), and ``GET /root.pem`` with the root certificate.

A production installation points ``LEDGER_TSA_URL`` at a real TSA instead (a 可信时间 service); nothing else
changes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from ledger.errors import ConfigurationError, NodeError

OPENSSL = os.environ.get("LEDGER_OPENSSL", "/usr/bin/openssl")
MAX_QUERY_BYTES = 64 * 1024
ROOT_SUBJECT = "/O=Data-asset ledger (development)/CN=Dev RFC 3161 root - tests only"
TSA_SUBJECT = "/O=Data-asset ledger (development)/CN=Dev time-stamping authority"
DEV_POLICY = "1.2.3.4.1"  # an example OID: development tokens name no real policy
TSA_EXTENSIONS = ("basicConstraints=critical,CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,nonRepudiation\n"
                  "extendedKeyUsage=critical,timeStamping\n"
                  "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")


def _private(path: Path) -> None:
    os.chmod(path, 0o700 if path.is_dir() else 0o600)


def _openssl(*args: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run([OPENSSL, *args], cwd=cwd, input=stdin, capture_output=True, timeout=60,
                              preexec_fn=lambda: os.umask(0o077))
    except FileNotFoundError:
        raise ConfigurationError(f"OpenSSL not found at {OPENSSL}: install it (Debian: openssl) or set "
                                 "LEDGER_OPENSSL") from None
    if done.returncode != 0:
        raise NodeError(f"openssl {args[0]} failed: {done.stderr.decode(errors='replace')[-400:]}")
    return done.stdout


class DevTsa:
    """The test CA and TSA configuration in one private directory; ``reply`` answers a time-stamp query."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    @property
    def root_pem(self) -> Path:
        return self.directory / "root.pem"

    @property
    def config(self) -> Path:
        return self.directory / "tsa.cnf"

    def init(self) -> None:
        """Generates the test CA and the TSA key and certificate unless they exist (idempotent)."""
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        _private(d)
        if self.root_pem.exists() and (d / "tsa.crt").exists() and self.config.exists():
            return
        for name in ("root.key", "tsa.key"):
            _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name, cwd=d)
        _openssl("req", "-x509", "-new", "-key", "root.key", "-sha256", "-days", "3650", "-subj", ROOT_SUBJECT,
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-out", "root.pem.tmp", cwd=d)
        _openssl("req", "-new", "-key", "tsa.key", "-subj", TSA_SUBJECT, "-out", "tsa.csr", cwd=d)
        (d / "tsa.ext").write_text(TSA_EXTENSIONS)
        serial = "0x" + os.urandom(16).hex()
        _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "root.pem.tmp", "-CAkey", "root.key", "-set_serial",
                 serial, "-sha256", "-days", "3650", "-extfile", "tsa.ext", "-out", "tsa.crt", cwd=d)
        (d / "tsaserial").write_text("01\n")
        # The reply carries the TSA's certificate only (certReq); the root comes from the verifier (--tsa-root).
        self.config.write_text(
            "[ tsa ]\ndefault_tsa = dev_tsa\n\n[ dev_tsa ]\n"
            f"dir = {d}\nserial = $dir/tsaserial\ncrypto_device = builtin\nsigner_cert = $dir/tsa.crt\n"
            "signer_key = $dir/tsa.key\nsigner_digest = sha256\n"
            f"default_policy = {DEV_POLICY}\nother_policies = {DEV_POLICY}\n"
            "digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = yes\n"
            "ess_cert_id_chain = no\ness_cert_id_alg = sha256\n")
        (d / "root.pem.tmp").rename(self.root_pem)  # last: its presence means the directory is complete
        for path in d.iterdir():
            _private(path)

    def reply(self, query: bytes) -> bytes:
        """``openssl ts -reply`` for one DER ``TimeStampReq`` (one at a time: OpenSSL advances the serial file)."""
        with self._lock, tempfile.TemporaryDirectory(dir=self.directory) as work:
            query_file, reply_file = Path(work) / "query.tsq", Path(work) / "reply.tsr"
            query_file.write_bytes(query)
            _openssl("ts", "-reply", "-config", str(self.config), "-queryfile", str(query_file), "-out",
                     str(reply_file), cwd=self.directory)
            return reply_file.read_bytes()


def serve(directory: Path, host: str, port: int) -> None:
    """Serves the TSA of ``directory`` on ``host:port`` until interrupted."""
    tsa = DevTsa(directory)
    tsa.init()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/root.pem":
                self._send(200, tsa.root_pem.read_bytes(), "application/x-pem-file")
            else:
                self._send(200, b"development RFC 3161 TSA (openssl ts); POST a timestamp-query\n", "text/plain")

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            if not 0 < size <= MAX_QUERY_BYTES:
                self._send(413 if size else 400, b"a time-stamp query of at most 64 KiB is expected\n", "text/plain")
                return
            try:
                body = tsa.reply(self.rfile.read(size))
            except NodeError as exc:
                self._send(400, exc.user_message.encode(), "text/plain")
                return
            self._send(200, body, "application/timestamp-reply")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


@dataclass
class TsaInfo:
    """What ``ledger tsa up`` recorded about the TSA process it started."""

    pid: int
    port: int
    url: str
    root: str
    log_file: str


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class LocalTsa:
    """Starts, stops and describes the development TSA of one ledger home (``<home>/tsa``, ``<home>/tsa.json``)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.directory = home / "tsa"
        self.info_file = home / "tsa.json"

    def info(self) -> TsaInfo | None:
        if not self.info_file.exists():
            return None
        info = TsaInfo(**json.loads(self.info_file.read_text()))
        return info if _alive(info.pid) else None

    def start(self, port: int, timeout: float = 30.0) -> TsaInfo:
        """Generates the test CA if needed and starts the TSA in the background (idempotent)."""
        running = self.info()
        if running is not None:
            return running
        DevTsa(self.directory).init()
        log_file = self.home / "tsa.log"
        with log_file.open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "ledger.devtsa", "--dir", str(self.directory),
                                     "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(url, timeout=0.5).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                raise NodeError(f"the development TSA exited while starting: "
                                f"{log_file.read_text(errors='replace')[-600:]}")
            if time.monotonic() > deadline:
                proc.kill()
                raise NodeError(f"the development TSA did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.1)
        info = TsaInfo(pid=proc.pid, port=port, url=url, root=str(DevTsa(self.directory).root_pem),
                       log_file=str(log_file))
        self.info_file.write_text(json.dumps(asdict(info), indent=2))
        return info

    def stop(self, timeout: float = 10.0) -> TsaInfo | None:
        info = self.info()
        self.info_file.unlink(missing_ok=True)
        if info is None:
            return None
        os.killpg(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(info.pid):
            if time.monotonic() > deadline:
                os.killpg(info.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child (tests)
                os.waitpid(info.pid, os.WNOHANG)
        return info


def main() -> None:
    parser = argparse.ArgumentParser(description="Development RFC 3161 TSA (openssl ts behind HTTP).")
    parser.add_argument("--dir", type=Path, required=True, help="private directory of the test CA")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # a clean stop, like Ctrl-C
    serve(args.dir, args.host, args.port)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
