"""How a MySQL connection (core/db/mysql.py) reads a packet's payload from its buffered
socket, fed bytes: whole packets, payloads spanning packets, and each way a read can fail,
with the errors PyMySQL's own reads raise."""
import io
import socket

import pymysql
import pytest
from pymysql.constants import CR

from netweave.core.db import mysql


def _packet(sequence, payload):
    return len(payload).to_bytes(3, "little") + bytes([sequence]) + payload


class _Broken(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, _buffer):
        raise ConnectionResetError(104, "Connection reset by peer")


@pytest.fixture
def connection():
    """A connection that never connected, reading what ``feed`` gives it."""
    made = mysql._Connection.__new__(mysql._Connection)
    ends = socket.socketpair()
    made._sock = ends[0]
    made._rfile = None
    made.encoding = "utf8mb4"

    def feed(data, sequence=0):
        made._rfile = io.BufferedReader(io.BytesIO(data))
        made._next_seq_id = sequence
        return made
    yield feed
    made._force_close()
    ends[1].close()


def test_packets_are_read_one_payload_at_a_time_and_the_sequence_advances(connection):
    conn = connection(_packet(3, b"first") + _packet(4, b"") + _packet(5, b"third"), sequence=3)
    assert conn._read_payload() == b"first"
    assert conn._read_payload() == b""
    assert conn._read_payload() == b"third"
    assert conn._next_seq_id == 6


def test_the_sequence_wraps_after_255(connection):
    conn = connection(_packet(255, b"a") + _packet(0, b"b"), sequence=255)
    assert conn._read_payload() == b"a"
    assert conn._read_payload() == b"b"


def test_a_full_size_payload_continues_in_the_next_packet(connection, monkeypatch):
    monkeypatch.setattr(mysql, "_MAX_PACKET", 4)
    conn = connection(_packet(0, b"abcd") + _packet(1, b"efgh") + _packet(2, b"") + _packet(3, b"ijk"))
    assert conn._read_payload() == b"abcdefgh"  # ended by an empty continuation
    assert conn._read_payload() == b"ijk"
    assert conn._next_seq_id == 4


@pytest.mark.parametrize("data", [
    b"",  # the server closed the connection
    b"\x05\x00",  # part of a header
    _packet(0, b"whole")[:-2],  # part of a payload
    _packet(0, b"a") + b"\x01\x00",  # a continuation's header cut short (with _MAX_PACKET 1)
], ids=["nothing", "short-header", "short-payload", "short-continuation"])
def test_a_short_read_is_a_lost_connection_and_closes_it(connection, monkeypatch, data):
    monkeypatch.setattr(mysql, "_MAX_PACKET", 1)
    conn = connection(data)
    with pytest.raises(pymysql.err.OperationalError) as lost:
        conn._read_payload()
    assert lost.value.args == (CR.CR_SERVER_LOST, "Lost connection to MySQL server during query")
    assert not conn.open


def test_a_socket_error_is_a_lost_connection_naming_it(connection):
    conn = connection(b"")
    conn._rfile = io.BufferedReader(_Broken())
    with pytest.raises(pymysql.err.OperationalError) as lost:
        conn._read_payload()
    assert lost.value.args[0] == CR.CR_SERVER_LOST
    assert "Connection reset by peer" in lost.value.args[1]
    assert not conn.open


def test_a_packet_numbered_0_out_of_turn_is_the_servers_goodbye(connection):
    # MariaDB's error packet as it shuts down starts a new sequence.
    conn = connection(_packet(0, b"\xff\x87\x07#08S01Server shutdown in progress"), sequence=1)
    with pytest.raises(pymysql.err.OperationalError) as lost:
        conn._read_payload()
    assert lost.value.args[0] == CR.CR_SERVER_LOST
    assert not conn.open


def test_a_packet_out_of_sequence_is_an_internal_error_and_closes_the_connection(connection):
    conn = connection(_packet(7, b"x"), sequence=2)
    with pytest.raises(pymysql.err.InternalError, match="got 7 expected 2"):
        conn._read_payload()
    assert not conn.open


def test_an_error_packet_raises_the_servers_error_and_keeps_the_connection(connection):
    message = b"You have an error in your SQL syntax"
    conn = connection(_packet(1, b"\xff" + (1064).to_bytes(2, "little") + b"#42000" + message), sequence=1)
    with pytest.raises(pymysql.err.ProgrammingError) as refused:
        conn._read_payload()
    assert refused.value.args == (1064, message.decode())
    assert conn.open
