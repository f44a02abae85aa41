"""An https:// broker whose certificate the client does not trust is an
error at once, not something to retry for an hour; with ``cafile`` it is
trusted. (Certificates made here with the openssl command.)"""

import json
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from countersign_broker import Broker, BrokerError

SCRIPT = """set -e
ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'
openssl req -x509 $ec -days 2 -subj '/CN=test CA' -keyout ca-key.pem -out ca.pem
openssl req $ec -subj /CN=localhost -keyout key.pem -out leaf.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile leaf.ext -out cert.pem
"""


class Jwks(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"keys": []}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl command")
class TlsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        d = Path(self.dir.name)
        subprocess.run(["sh", "-c", SCRIPT], cwd=d, check=True, capture_output=True)
        self.ca = str(d / "ca.pem")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(d / "cert.pem", d / "key.pem")
        self.server = HTTPServer(("127.0.0.1", 0), Jwks)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{self.server.server_port}"

    def tearDown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.dir.cleanup()

    def test_an_untrusted_certificate_is_a_lasting_error(self) -> None:
        started = time.monotonic()
        with self.assertRaises(BrokerError) as raised:
            Broker(self.url, "token", timeout=5).wait_for_outcome("req-1", timeout=30)
        self.assertFalse(raised.exception.transient)
        self.assertIn("cafile", str(raised.exception))
        self.assertLess(time.monotonic() - started, 5, "retried a TLS failure")

    def test_the_operators_ca_is_trusted_with_cafile(self) -> None:
        self.assertEqual(Broker(self.url, "token", cafile=self.ca).broker_jwks(), {"keys": []})


if __name__ == "__main__":
    unittest.main()
