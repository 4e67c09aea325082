"""A stand-in for a Kubernetes node's service: HTTP or TLS, answers who it is.

Runs inside a lab namespace (started by tests/lab/backends.sh). `/readyz` answers "ok"
like kube-apiserver; every other path echoes the node name, the path, the peer address,
X-Forwarded-For and the client certificate's subject (to prove passthrough).
"""
import argparse
import http.server
import json
import socketserver
import ssl


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--bind", default="::")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path == "/readyz":
                body = b"ok"
            else:
                peer_cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
                subject = dict(x[0] for x in peer_cert["subject"]) if peer_cert else None
                body = json.dumps({"node": args.name, "path": self.path, "peer": self.client_address[0],
                                   "x_forwarded_for": self.headers.get("X-Forwarded-For"),
                                   "client_cert_subject": subject}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        address_family = __import__("socket").AF_INET6
        daemon_threads = True
        allow_reuse_address = True

        def server_bind(self):
            self.socket.setsockopt(__import__("socket").IPPROTO_IPV6, __import__("socket").IPV6_V6ONLY, 0)
            super().server_bind()

    server = Server((args.bind, args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(args.client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
