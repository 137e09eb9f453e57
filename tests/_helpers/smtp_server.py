"""A real SMTP server for tests (aiosmtpd): every message received is appended to a JSON-lines
file. Arguments: out-file port mode(plain|starttls|tls) [user password] [cert key]."""
import json
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
user = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
password = sys.argv[5] if len(sys.argv) > 5 else ""
cert = sys.argv[6] if len(sys.argv) > 6 else None
key = sys.argv[7] if len(sys.argv) > 7 else None


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "authenticated": bool(session.authenticated),
                "tls": session.ssl is not None,
            }) + "\n")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and user is not None
          and auth_data.login.decode() == user and auth_data.password.decode() == password)
    return AuthResult(success=ok, handled=False)


kwargs = {"hostname": "127.0.0.1", "port": port}
if user is not None:
    kwargs.update(authenticator=authenticator, auth_require_tls=(mode != "plain"))
if cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if mode == "tls":
        kwargs["ssl_context"] = ctx
    elif mode == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)

controller = Controller(Handler(), **kwargs)
controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
