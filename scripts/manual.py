#!/usr/bin/env python3
"""Finishes the man page that swift-argument-parser's generate-manual writes.

    scripts/manual.py GENERATED.1 > rotor.1

generate-manual renders every command's options, so the global options
(--db, --key-file, --key-command) and --version/--help repeat under each of
the thirty-odd commands, and its EXIT STATUS is the generic "0 on success,
>0 if an error occurs". This keeps each command's own options, states the
global ones once, and adds the sections an operator looks for: GLOBAL
OPTIONS, ENVIRONMENT, FILES, EXIT STATUS (the real codes), EXAMPLES and SEE
ALSO. The text of those sections lives here, beside the code that places it.
"""
import sys

# Items that appear under every command; kept once, in GLOBAL OPTIONS or at the top.
REPEATED = (".It Fl -db Ar path|url", ".It Fl -spill-dir Ar path", ".It Fl -key-file Ar path",
            ".It Fl -key-command Ar command", ".It Fl -node Ar name", ".It Fl -version", ".It Fl h , -help")

GLOBAL_OPTIONS = r""".Sh "GLOBAL OPTIONS"
Every command takes these.
.Bl -tag -width 6n
.It Fl -db Ar path|url
The SQLite database (default
.Pa rotor.db
in the working directory), or a PostgreSQL database as
.Li postgres://USER@HOST:PORT/DBNAME ,
with the settings
.Li sslmode=disable|require|verify-full
(default
.Cm verify-full )
and
.Li sslrootcert=PATH
after a
.Li ? ;
its password comes from
.Ev PGPASSWORD
or the password file, never from a message or a log line. A URL has no
.Pa .key
default: give the master key with
.Fl -key-file ,
.Fl -key-command
or the systemd credential.
.It Fl -spill-dir Ar path
Where a new pair the database cannot take is sealed for the next run to
import (default: beside a SQLite database; for PostgreSQL
.Ev STATE_DIRECTORY ,
else the working directory).
.It Fl -node Ar name
This process's name among the instances that share a database: in lease
owners, audit actors,
.Nm rotor Cm status
and the metrics (default: the host's name).
.It Fl -key-file Ar path
The master key file. Default: the systemd credential
.Pa rotor.key
when
.Ev CREDENTIALS_DIRECTORY
has one, else the database path with
.Pa .key
appended.
.It Fl -key-command Ar command
A command, run with
.Pa /bin/sh Fl c ,
whose standard output is the master key file's text, for example from a
secret manager. It has 30 seconds and at most 4 KiB of output.
.It Fl -json
On every command that reports a result: exactly one JSON document on
standard output, even on failure
(\fB{\(dqok\(dq:false,\(dqexit\(dq:N,\(dqcode\(dq:...,\(dqerror\(dq:...}\fR),
with the same exit status as without it.
.El
"""

TAIL = r""".Sh ENVIRONMENT
.Bl -tag -width 6n
.It Ev ROTOR_DB
The database, as
.Fl -db .
.It Ev ROTOR_SPILL_DIR , ROTOR_NODE
As
.Fl -spill-dir
and
.Fl -node .
.It Ev PGPASSWORD , PGPASSFILE , PGSSLROOTCERT
For a PostgreSQL
.Fl -db :
the password, the password file (default
.Pa ~/.pgpass ,
ignored when others may read it) and the certificate authorities
.Cm verify-full
trusts, as libpq reads them.
.It Ev ROTOR_KEY_FILE , ROTOR_KEY_COMMAND
The master key's source, as
.Fl -key-file
and
.Fl -key-command ;
an option beats a variable.
.It Ev CREDENTIALS_DIRECTORY
Set by systemd for a unit with
.Cm LoadCredential= ;
its
.Pa rotor.key
is the master key when no option or variable names one.
.It Ev ROTOR_BUSY_TIMEOUT
Seconds a write waits for another process's lock (0 to 3600, default 15).
.It Ev ROTOR_VENDOR_TIMEOUT
Seconds one request to the vendor may take, head and body (1 to 600, default 30).
.It Ev ROTOR_LOG_FORMAT , ROTOR_LOG_LEVEL
The log lines of
.Nm rotor Cm run :
.Cm logfmt
or
.Cm json ;
.Cm trace , debug , info , notice , warning
or
.Cm error .
.It Ev ROTOR_PROGRESS_AFTER
Seconds a long operation runs before it shows progress on a terminal (default 1).
.It Ev NO_COLOR
When set and not empty, no colour, even on a terminal.
.El
.Sh FILES
.Bl -tag -width 6n
.It Pa rotor.db , rotor.db-wal
The database: applications, encrypted secrets, rotation history,
deliveries and the audit log (mode 0600).
.It Pa rotor.db.key
The master key file that
.Nm rotor Cm init
writes (mode 0600). Keep a copy apart from the database: without it no
stored secret can be read.
.It Pa rotor.db.spill-*
A new pair that could not be committed, sealed with the master key; the
next
.Nm rotor Cm run
imports it.
.El
.Sh "EXIT STATUS"
.Bl -tag -width 6n
.It 0
Done.
.It 1
Failed, and the credentials at the vendor are unchanged: the old pair still works.
.It 3
The vendor rotated and the new pair is stored, but verification or a
delivery is still pending or failed;
.Nm rotor Cm run
keeps retrying and
.Nm rotor Cm publish
retries now. For
.Cm status :
an app Rotor keeps retrying.
.It 4
The state at the vendor is unknown or the credentials are lost: a person
must act, and the message says what to do. For
.Cm status :
an app that needs action.
.It 64
Bad usage or bad input: an unknown app, a malformed duration, a missing
option, a wrong or unsafe key file, a file that is not a Rotor database.
.El
.Sh EXAMPLES
Register an app with its current pair (the secret from standard input,
never the command line), rotated every 30 days:
.Bd -literal -offset indent
rotor init
rotor app add billing --application-id APP_ID --client-id CLIENT_ID \e
    --client-secret-stdin --every 30d < secret.txt
.Ed
.Pp
Deliver each new pair to a file and reload the service that reads it:
.Bd -literal -offset indent
rotor target add billing --file /etc/billing/vitalera.env --mode 640
rotor target add billing --exec "systemctl reload billing.service"
.Ed
.Pp
Rotate now, then run the scheduler with its status page and metrics:
.Bd -literal -offset indent
rotor rotate billing
rotor run --listen 127.0.0.1:9090
.Ed
.Pp
Keep the configuration in a reviewed file: see the plan, then apply it:
.Bd -literal -offset indent
rotor apply -f /etc/rotor/rotor.yaml --dry-run
rotor apply -f /etc/rotor/rotor.yaml
.Ed
.Pp
Check every app from a monitoring system (exit 0, 3 or 4):
.Bd -literal -offset indent
rotor status
.Ed
.Pp
Use the current secret in a script:
.Bd -literal -offset indent
secret=$(rotor secret show billing --field client_secret)
.Ed
.Sh "SEE ALSO"
.Xr systemd.exec 5 ,
.Xr sqlite3 1
"""


def finish(lines):
    out = []
    seen = set()
    index = 0
    # A blank line in a help text is a paragraph break (mdoc warns about empty lines).
    lines = [".Pp" if line.strip() == "" else line for line in lines]
    while index < len(lines):
        line = lines[index]
        if line in REPEATED:
            first_top_level = line in (".It Fl -version", ".It Fl h , -help") and line not in seen
            seen.add(line)
            if not first_top_level:
                # The item and its one-line description; a paragraph break left just before it goes too.
                if out and out[-1] == ".Pp":
                    out.pop()
                index += 2
                continue
        if line == '.Sh "EXIT STATUS"':
            # The generic section: replaced by the real codes in TAIL.
            index += 1
            while index < len(lines) and not lines[index].startswith(".Sh"):
                index += 1
            continue
        out.append(line)
        if line.startswith(".Sh DESCRIPTION"):
            # Up to the end of the description's first paragraph, then the global options.
            index += 1
            while index < len(lines) and not lines[index].startswith("."):
                out.append(lines[index])
                index += 1
            # The rest of the help's description lists the global options for `--help`; here they get a section.
            while index < len(lines) and not lines[index].startswith(".Bl"):
                index += 1
            out.extend(GLOBAL_OPTIONS.rstrip("\n").split("\n"))
            out.append(".Sh COMMANDS")
            continue
        index += 1
    return out + TAIL.rstrip("\n").split("\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/manual.py GENERATED.1 > rotor.1")
    with open(sys.argv[1]) as generated:
        lines = generated.read().rstrip("\n").split("\n")
    sys.stdout.write("\n".join(finish(lines)) + "\n")


if __name__ == "__main__":
    main()
