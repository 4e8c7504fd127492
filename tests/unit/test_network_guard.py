import socket

import pytest

from tests.conftest import NetworkBlocked


def test_outside_connections_are_refused():
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_name_lookups_are_refused():
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("query1.finance.yahoo.com", 443)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
