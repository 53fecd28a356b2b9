"""What netweave relies on from a MySQL or MariaDB server, set by netweave itself.

A server's defaults vary (MariaDB's built-in ones are latin1 and REPEATABLE
READ, Debian's configuration says utf8mb4, an operator's may turn strict mode
off), so netweave does not depend on them:

* connections speak utf8mb4, and every table netweave creates (by migration or
  ``create_all``) is ``DEFAULT CHARSET utf8mb4`` with a binary, NO PAD
  collation. Names, tags and descriptions then hold any Unicode character,
  4-byte ones included, and compare, sort and collide exactly as on PostgreSQL
  and SQLite: ``Web`` and ``web`` (or ``web`` and ``web ``) are two tags,
  not one, and a name filter finds only its own name. Neutron's API is case-sensitive
  everywhere and the API lower-cases what it treats as case-insensitive (MAC
  addresses) before storing it, so no column wants a case-insensitive
  collation.
* transactions are READ COMMITTED, PostgreSQL's default: the allocators retry
  on conflicts and need to see rows that committed meanwhile, which REPEATABLE
  READ's snapshot would hide from a retried statement of the same transaction.
* the session's sql_mode is TRADITIONAL (strict), so a value a column cannot
  hold is refused (and answered 400) instead of being cut or zeroed silently.

Timestamps need no fractional DATETIME(6): netweave stores them at whole
seconds on every database (model_base.utcnow), as Neutron shows them, so
what sorts or filters by time sees the same values (and ties) everywhere.
"""
import datetime
import re

import sqlalchemy as sa
from sqlalchemy import event

try:
    import pymysql
    from pymysql.constants import CR, SERVER_STATUS
except ImportError:  # only the PyMySQL driver gets the lean transactions below
    pymysql = None

BACKENDS = ("mysql", "mariadb")  # SQLAlchemy's dialect names for either server
CHARSET = "utf8mb4"
ISOLATION_LEVEL = "READ COMMITTED"
SQL_MODE = "TRADITIONAL"
_OPTIONS_SET_HERE = "netweave_mysql_defaults"  # Table.info key: the options filled in below


# Server error numbers, shared by MySQL and MariaDB.
DUPLICATE_KEY = frozenset({1022, 1062, 1586})
FOREIGN_KEY_VIOLATION = frozenset({1216, 1217, 1451, 1452})
# Too long, out of range, not of the column's type (strict mode raises these as errors).
BAD_VALUE = frozenset({1264, 1265, 1292, 1366, 1367, 1406, 1690})
# NOT NULL without a value, and CHECK constraints (MariaDB's, MySQL's).
CONSTRAINT_VIOLATION = frozenset({1048, 1364, 3819, 4025})
# Lock wait timeout and deadlock: the transaction lost a race, its unit of work may run again.
RETRIABLE = frozenset({1205, 1213})

_DRIVER_MODULES = ("pymysql", "MySQLdb")


def error_code(error):
    """The MySQL/MariaDB error number of an error raised through SQLAlchemy by a MySQL driver
    (PyMySQL or mysqlclient), else None."""
    orig = getattr(error, "orig", None)
    if orig is None or not type(orig).__module__.startswith(_DRIVER_MODULES):
        return None
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_mysql(dialect):
    return dialect.name in BACKENDS


def table_collation(dialect):
    """An exact (binary) collation that also counts trailing spaces (NO PAD)."""
    if dialect.is_mariadb:
        return "utf8mb4_nopad_bin"
    if dialect.server_version_info and dialect.server_version_info >= (8, 0, 17):
        return "utf8mb4_0900_bin"
    return "utf8mb4_bin"  # older MySQL has no binary NO PAD collation


def url_with_charset(url_obj):
    """``url_obj`` asking the driver for utf8mb4 unless it names a charset itself."""
    if "charset" in url_obj.query:
        return url_obj
    return url_obj.update_query_dict({"charset": CHARSET})


def reads_apart(url_obj):
    """Whether reads get an engine of their own (configure_engine's ``reads_only``): with
    PyMySQL, whose connections we can make skip an idle ROLLBACK."""
    return pymysql is not None and url_obj.get_driver_name() == "pymysql"


# An execution option: a statement run again and again with other values (a show's), which
# a MySQL or MariaDB server then parses once per connection (PREPARE) instead of per call.
# On other databases, and with drivers other than PyMySQL, it changes nothing.
PREPARE = "netweave_prepare"
# Statements prepared per connection at most; past that they run as they are.
_PREPARED_KEPT = 32
# Errors of a PREPARE after which the statement runs as text: "This command is not
# supported in the prepared statement protocol yet", and the server's limit on prepared
# statements (max_prepared_stmt_count, all sessions together) reached.
_NOT_PREPARED = frozenset({1295, 1461})
# A parameter as SQLAlchemy renders it for PyMySQL (its "pyformat" style).
_PARAMETER = re.compile(r"%\((\w+)\)s")

# A result's column descriptions as parsed, by the bytes of their packets: see _Result.
_DESCRIPTIONS = {}
_DESCRIPTIONS_KEPT = 2048

# The first byte of a value in a text-protocol row: NULL, or the width of the length
# that follows (the byte itself is the length below 0xFB).
_NULL = 0xFB
_LENGTH_WIDTHS = {0xFC: 2, 0xFD: 3, 0xFE: 8}
# The first byte of an EOF packet (shorter than 9 bytes: a row may start with 0xFE too),
# and of an error packet.
_EOF, _ERROR = 0xFE, 0xFF


if pymysql is not None:
    _MAX_PACKET = pymysql.connections.MAX_PACKET_LEN

    def _datetime(text):
        """A DATETIME or TIMESTAMP value read as text: the standard library parses it
        in C, several times faster than PyMySQL's regular expression (two per port of a
        list); what it refuses (zero dates) goes to PyMySQL's converter as before."""
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            return pymysql.converters.convert_datetime(text)

    # Converters that take a value's bytes as they take its text.
    _FROM_BYTES = (int, float)

    _CONVERSIONS = dict(pymysql.converters.conversions)
    _CONVERSIONS.update({pymysql.constants.FIELD_TYPE.DATETIME: _datetime,
                         pymysql.constants.FIELD_TYPE.TIMESTAMP: _datetime})

    class _Lost(Exception):
        """The server closed the connection, or sent less than a packet."""

    class _Replay:
        """The column description packets of a result, read already, served to PyMySQL's
        own parser (MySQLResult._get_descriptions) as if from the connection."""

        def __init__(self, connection, payloads):
            self.use_unicode = connection.use_unicode
            self.encoding = connection.encoding
            self.decoders = connection.decoders
            self._payloads = iter(payloads)

        def _read_packet(self, packet_type=pymysql.protocol.MysqlPacket):
            return packet_type(next(self._payloads), self.encoding)

    class _Result(pymysql.connections.MySQLResult):
        """PyMySQL's result, read as packets' bytes rather than packet objects.

        * Column descriptions: the server describes every column of every result
          anew, and PyMySQL parsed each description in Python: for a port show's
          one-row union (22 columns) that cost more than the row. A statement's
          descriptions are the same bytes every time, so the parsed set is kept by
          those bytes and parsed once per process by PyMySQL's own code.
        * Rows: PyMySQL reads each value through three method calls on a packet
          object; in a 1,000-port list that was most of the server's time on
          MariaDB. Here a row's length-coded values are cut from its bytes in one
          loop, then decoded and converted as the descriptions say (``converters``):
          the same values PyMySQL reads."""

        def _get_descriptions(self):
            connection = self.connection
            read_payload = connection._read_payload
            # The descriptions and the EOF after them, whose server status flags are part
            # of the key too: a statement has a set per status seen (in a transaction or not).
            payloads = tuple([read_payload() for _ in range(self.field_count + 1)])
            key = (payloads, connection.encoding, connection.use_unicode)
            found = _DESCRIPTIONS.get(key)
            if found is None:
                self.connection = _Replay(connection, payloads)
                try:
                    super()._get_descriptions()
                finally:
                    self.connection = connection
                if len(_DESCRIPTIONS) >= _DESCRIPTIONS_KEPT:
                    _DESCRIPTIONS.clear()  # an unusual variety of results: start over rather than grow
                # Numbers convert from their bytes (int(b"42")): no text made of them first.
                self.converters = tuple((None if converter in _FROM_BYTES else encoding, converter)
                                        for encoding, converter in self.converters)
                _DESCRIPTIONS[key] = (tuple(self.fields), self.converters, self.description)
                return
            fields, self.converters, self.description = found
            self.fields = list(fields)

        def _read_rowdata_packet(self):
            connection = self.connection
            read_payload = connection._read_payload
            read_row = self._read_row
            rows = []
            while True:
                data = read_payload()
                if data[0] == _EOF and len(data) < 9:
                    self._check_packet_is_eof(pymysql.protocol.MysqlPacket(data, connection.encoding))
                    self.connection = None  # as PyMySQL: no cycle between result and connection
                    break
                rows.append(read_row(data))
            self.affected_rows = len(rows)
            self.rows = tuple(rows)

        def _read_row_from_packet(self, packet):
            # An unbuffered result's rows still come as packets.
            return self._read_row(packet.get_all_data())

        def _read_row(self, data):
            end = len(data)
            position = 0
            row = []
            append = row.append
            for encoding, converter in self.converters:
                if position >= end:
                    break  # no more columns in this row (as PyMySQL reads it)
                length = data[position]
                position += 1
                if length >= _NULL:
                    if length == _NULL:
                        append(None)
                        continue
                    length, position = _long_length(data, position, length)
                value = data[position:position + length]
                position += length
                if encoding is not None:
                    value = value.decode(encoding)
                if converter is not None:
                    value = converter(value)
                append(value)
            return tuple(row)

    def _long_length(data, position, first):
        """(the length a row value's first byte ``first`` announces in the bytes from
        ``position`` on, the position after them)."""
        width = _LENGTH_WIDTHS.get(first)
        if width is None:
            raise pymysql.err.InternalError("malformed value in a row packet (first byte 0x%02x)" % first)
        return int.from_bytes(data[position:position + width], "little"), position + width

    class _Connection(pymysql.connections.Connection):
        """A PyMySQL connection whose results are read by _Result, from packets'
        bytes (_read_payload). It converts values with _CONVERSIONS, whatever the
        caller passes: the parsed descriptions _Result shares between connections
        carry those converters."""

        def __init__(self, *args, **kwargs):
            self._prepared = {}
            super().__init__(*args, **dict(kwargs, conv=_CONVERSIONS))

        def connect(self, sock=None):
            # A new session (ping(reconnect=True) comes here too) has none of the old
            # one's statements. statement as SQLAlchemy sends it -> (its name on the
            # server, its parameters' names in order), or None when the server refused it
            self._prepared = {}
            super().connect(sock)

        def execute_prepared(self, cursor, statement, parameters):
            """Run ``statement`` (with ``parameters`` by name) on ``cursor`` as a statement
            prepared on this connection, preparing it the first time; False when it is
            not (the caller runs it as usual).

            The server's SQL interface to prepared statements (PREPARE, EXECUTE ...
            USING literals) keeps the text protocol and its results, which _Result
            reads. A port show's statement, a union of seven tables, cost MariaDB
            0.37 ms of CPU sent as text and 0.25 ms executed prepared."""
            if statement not in self._prepared:
                if len(self._prepared) >= _PREPARED_KEPT or not isinstance(parameters, dict):
                    return False
                self._prepare(cursor, statement)
            found = self._prepared[statement]
            if found is None:
                return False
            name, names = found
            values = ", ".join(self.escape(parameters[n]) for n in names)
            # No arguments: PyMySQL then sends the text as it is, without %-formatting it.
            cursor.execute("EXECUTE %s USING %s" % (name, values) if names else "EXECUTE " + name)
            return True

        def _prepare(self, cursor, statement):
            name = "netweave_%d" % len(self._prepared)
            text = _PARAMETER.sub("?", statement).replace("%%", "%")
            try:
                cursor.execute("PREPARE %s FROM %s" % (name, self.escape(text)))
            except pymysql.err.MySQLError as error:
                # A statement the server's prepared statements do not take runs as text
                # (its error, if it has one, is then raised there).
                if not isinstance(error, pymysql.err.ProgrammingError) and error.args[0] not in _NOT_PREPARED:
                    raise
                self._prepared[statement] = None
                return
            self._prepared[statement] = (name, _PARAMETER.findall(statement))

        def _read_payload(self):
            """The next packet's payload, as ``_read_packet`` reads it (a payload of
            16 MB or more joined with its continuation, an error packet raised) but
            without making a packet object of it, in one call where PyMySQL makes four
            (``_read_bytes`` twice): a port show reads 28 packets, a 1,000-port list
            3,000. Errors as ``_read_bytes`` raises them."""
            read = self._rfile.read
            payload = None
            try:
                while True:
                    header = read(4)
                    if len(header) < 4:
                        raise _Lost()
                    if header[3] != self._next_seq_id:
                        if header[3] == 0:  # MariaDB's error packet when it shuts down
                            raise _Lost()
                        raise pymysql.err.InternalError(
                            "Packet sequence number wrong - got %d expected %d" % (header[3], self._next_seq_id))
                    self._next_seq_id = (self._next_seq_id + 1) % 256
                    length = header[0] | header[1] << 8 | header[2] << 16
                    part = read(length)
                    if len(part) < length:
                        raise _Lost()
                    payload = part if payload is None else payload + part
                    if length < _MAX_PACKET:
                        break
            except _Lost:
                self._force_close()
                raise pymysql.err.OperationalError(
                    CR.CR_SERVER_LOST, "Lost connection to MySQL server during query") from None
            except OSError as error:
                self._force_close()
                raise pymysql.err.OperationalError(
                    CR.CR_SERVER_LOST, "Lost connection to MySQL server during query (%s)" % error) from None
            except BaseException:
                # (PyMySQL's own rule: the connection is unusable after any of these)
                self._force_close()
                raise
            if payload and payload[0] == _ERROR:
                pymysql.protocol.MysqlPacket(payload, self.encoding).raise_for_error()
            return payload

        def _read_query_result(self, unbuffered=False):
            # PyMySQL's own, with _Result for its MySQLResult.
            self._result = None
            result = _Result(self)
            if unbuffered:
                result.init_unbuffered_query()
            else:
                result.read()
            self._result = result
            if result.server_status is not None:
                self.server_status = result.server_status
            return result.affected_rows

    class _LeanConnection(_Connection):
        """A PyMySQL connection that sends ROLLBACK only when a transaction is open.

        The server flags an open transaction in the status of every reply
        (SERVER_STATUS_IN_TRANS), so the flag of the last reply says whether there
        is anything to roll back: a read in autocommit mode leaves none, and its
        ROLLBACK (the pool's reset on return) would be a round trip for nothing."""

        def rollback(self):
            if self.server_status is None or self.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
                super().rollback()


def configure_engine(engine, reads_only=False):
    """Per-connection settings; the isolation level is passed to create_engine
    (READ COMMITTED, or AUTOCOMMIT for ``reads_only``).

    ``reads_only``: the engine of reads (db_api.reader_connection, reader_scope),
    whose connections stay in autocommit mode: each statement runs on its own, as
    it reads its own snapshot in a READ COMMITTED transaction anyway, and a read no
    longer ends with a ROLLBACK (a round trip of a show's two or three). Writers
    keep connections of their own, in READ COMMITTED transactions the server opens
    with their first statement: switching one connection between the two modes
    would cost a SET per switch, and a writer in autocommit mode a START TRANSACTION.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = '%s'" % SQL_MODE)

    if pymysql is None or engine.dialect.driver != "pymysql":
        return

    @event.listens_for(engine, "do_execute")
    def _on_do_execute(cursor, statement, parameters, context):
        # True: run here, prepared; otherwise SQLAlchemy runs it as usual.
        return context.execution_options.get(PREPARE, False) and \
            cursor.connection.execute_prepared(cursor, statement, parameters)

    if reads_only:
        @event.listens_for(engine, "do_connect")
        def _on_do_connect(_dialect, _record, cargs, cparams):
            return _LeanConnection(*cargs, **dict(cparams, autocommit=True))
    else:
        @event.listens_for(engine, "do_connect")
        def _on_do_connect(_dialect, _record, cargs, cparams):
            return _Connection(*cargs, **cparams)


@event.listens_for(sa.Table, "before_create")
def _table_options(table, connection, **_kw):
    # Every table, whoever declares it: plugins' models and migrations need not
    # remember it. Options a table sets itself win.
    dialect = connection.dialect if connection is not None else None
    if dialect is None or not is_mysql(dialect):
        return
    ours = table.info.setdefault(_OPTIONS_SET_HERE, set())
    defaults = {"engine": "InnoDB", "charset": CHARSET, "collate": table_collation(dialect)}
    for option, value in defaults.items():
        key = "%s_%s" % (dialect.name, option)
        if key not in table.kwargs or key in ours:
            table.dialect_kwargs[key] = value
            ours.add(key)
