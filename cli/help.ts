/** Help texts, one per command; `redun-edge COMMAND --help` prints them. */

const STORE = `Store options (every command):
  --remote URL      a deployed Worker (http/https URL), or another folder's
                    local store (a path or file: URL); default $REDUN_EDGE_URL,
                    else the local store in .redun/ ($REDUN_EDGE_STORE, or
                    looked up from the current folder upwards, created on
                    first use in the current folder)
  --token TOKEN     bearer token for writes to a remote (default $REDUN_EDGE_TOKEN)
  --in-process      run the local store's Worker inside this command instead
                    of the background server (slower start; nothing left running;
                    a server already running for the store is used, never stopped)
  -h, --help        show this help`;

export const HELP: Record<string, string> = {
  main: `Usage: redun-edge COMMAND [options]

Record workflow runs as a call graph, then query and tag their history.

Commands:
  run FILE TASK [--ARG VALUE]...   run a task of a workflow file and record it
  log [ID_PREFIX]                  list recent executions (or jobs, ...), or show one record
  tag list|add|update|rm|rename    list and edit tags
  push / pull --remote STORE       copy records to / from another store
  import PATH                      import a redun database (.redun/redun.db)
  export --redun PATH              write tags edited here back into it
  server status|stop               the local store's background server
  inspect [--port N]               look at the store in the web inspector
  help [COMMAND]                   show help for a command

${STORE}

Run 'redun-edge COMMAND --help' for a command's options.`,

  run: `Usage: redun-edge run [--tag KEY=VALUE]... [--no-cache] FILE TASK [--ARG VALUE]...

Import the workflow FILE (.ts or .js), run its exported task TASK, record the
run in the store and print the result as JSON. On stderr, as redun: the
execution, one line per job (Run / Cached / Reject; on a terminal one live
progress line instead), the JOB STATUS table and the duration; a failed run
ends with its traceback (exit 1). Ctrl-C stops the run and records its
running jobs and the execution as FAILED (interrupted); exit 130.

A recorded result is reused (its jobs CACHED) when every task it called is
still the task of that name defined now; a changed task runs again, and so
do the tasks that called it.

Options (before FILE):
  --tag KEY=VALUE   an execution tag; repeat for several (repeated keys are
                    kept); the value is read as JSON when it starts with [ { or ",
                    else as a number (as Python's int() and float() read one),
                    true/false/null, or text
  --no-cache        run every job, reusing no recorded result

Task arguments (after TASK), checked against the task's parameters:
--NAME VALUE gives the parameter NAME (for a task taking one object,
({ NAME }), that key of it); values read like tag values, so numbers and
JSON work; --NAME alone is true. Plain words fill parameters in order. An
argument the task does not take is a usage error.

Default execution tags: redun_edge.version, user, git_commit and
git_origin_url (of FILE's folder, when it is in a git repository) and
project (the task's namespace); a --tag with the same key replaces one.

${STORE}`,

  log: `Usage: redun-edge log [options] [ID_PREFIX | - | ~N]

Without ID_PREFIX: recent records, newest first, one line each.
With ID_PREFIX: the record that id prefix names, in detail (an execution
shows its duration, job counts per task and its job tree; a job its place
in the execution, its call's arguments and result or error, and its task's
source). - names the most recent execution, ~N the N-th most recent.
A RUNNING execution whose run stopped renewing its lease (its process was
killed) shows as ABANDONED.

Options:
  --tag KEY[=VALUE]       records having this tag (repeat: all must hold)
  --exec-tag KEY[=VALUE]  records of executions having this tag
  --exec                  executions (default)
  --job                   jobs
  --call-node             call nodes
  --task                  tasks
  --value                 values
  --all                   records of every type
  --exec-status STATUS    RUNNING, DONE or FAILED (repeatable)
  --job-status STATUS     RUNNING, DONE, CACHED or FAILED (repeatable)
  --limit N               at most N records (default 100, at most 1000)
  --format text|json      json prints the records as JSON

${STORE}`,

  tag: `Usage: redun-edge tag list [--values] [--limit N] [KEY[=VALUE]]...
       redun-edge tag add    ID_PREFIX... KEY=VALUE...
       redun-edge tag update ID_PREFIX... KEY=VALUE...
       redun-edge tag rm     ID_PREFIX... KEY=VALUE|KEY...
       redun-edge tag rename ID_PREFIX... OLD_KEY NEW_KEY

list     without filters: how many current tags each key has, by record
         type; --values: by value; with filters: the records having them
         (with --values: the value counts of those keys)
add      add tags (a removed tag comes back)
update   replace every value of each key given
rm       remove tags: KEY=VALUE removes that value, a bare KEY all its values
rename   rename a key, keeping the values

Arguments: id prefixes come first; they are hex (0-9, a-f, and -), or - (the
most recent execution) or ~N (the N-th most recent). The
first argument containing '=' starts the tags, and everything after it is a
tag. For rm, a bare word that is not hex also starts the tags, as a key;
put keys that look like hex after '--' (tag rm 6dc981d7 -- cafe).

Each record edited prints, as redun prints it: OP tag TYPE:ID KEY=JSON...
(OP: add, update, delete; rm names only the KEY=VALUE pairs given); rename
prints each change.

${STORE}`,

  push: `Usage: redun-edge push --remote STORE [--from-start]

Copy the local store's records written since the last push to STORE (an
http(s) URL, or another folder's local store). Idempotent and resumable:
the position reached is kept per remote in .redun/sync.json.

  --from-start      ignore the saved position and copy every record again

${STORE}`,

  pull: `Usage: redun-edge pull --remote STORE [--from-start]

Copy STORE's records written since the last pull into the local store.
Idempotent and resumable: the position reached is kept per remote in
.redun/sync.json.

  --from-start      ignore the saved position and copy every record again

${STORE}`,

  import: `Usage: redun-edge import PATH

Import a redun SQLite database (PATH, e.g. .redun/redun.db; read-only) into
the store: every execution, job, call node, task, value, tag (with its edit
history) and cache evaluation. Ids stay redun's, and each is checked with
redun's own hash formulas first: a record whose id does not match is named
and left out (exit code 1), the rest goes in. Only what the store lacks is
written, so importing again writes nothing and picks up what redun did since.

${STORE}`,

  export: `Usage: redun-edge export --redun PATH

Write the tags added, updated and removed here on records imported from the
redun database PATH back into it (its tag and tag_edit tables, in one
transaction), so redun's own \`log --tag\` and \`tag list\` see them. Tags
it already has are left alone.

${STORE}`,

  server: `Usage: redun-edge server status|stop

The local store's Worker runs in a background process, started by the first
command that needs it and stopped after REDUN_EDGE_IDLE_SECONDS (default
600) without requests.

status   whether it runs, where, and since when
stop     stop it now

${STORE}`,
};
HELP.inspect = `Usage: redun-edge inspect [--port N] [--no-open]

Serve the web inspector over the store on 127.0.0.1 and print its URL
(opened in a browser when there is one): executions, job trees, jobs,
values and their lineage, tasks, tags, and tag editing in place. The URL
carries a one-time key; Ctrl-C stops the server.

  --port N          listen on port N (default: any free port)
  --no-open         print the URL only

${STORE}`;
HELP.help = HELP.main!;
