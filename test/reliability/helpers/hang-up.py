# A lost SSH session, for real: runs a command on a pseudo-terminal, waits until its output shows
# WAIT_FOR (or the file WAIT_FILE exists), then closes the terminal's master side, as sshd does when
# the connection drops (the kernel then sends SIGHUP), and prints the command's exit code as JSON.
import json, os, pty, select, sys, time

wait_for, wait_file, command = os.environ.get('WAIT_FOR', '').encode(), os.environ.get('WAIT_FILE', ''), sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
seen, deadline = b'', time.time() + 30
while time.time() < deadline:
    if (wait_for and wait_for in seen) or (wait_file and os.path.exists(wait_file)):
        break
    ready, _, _ = select.select([fd], [], [], 0.05)
    if ready:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
os.close(fd)
_, status = os.waitpid(pid, 0)
print(json.dumps({'code': os.waitstatus_to_exitcode(status), 'seen': seen.decode('utf8', 'replace')[-2000:]}))
