/**
 * The size of libuv's thread pool, where argon2 hashes (and file and DNS work) run. Imported first by the
 * entry point: libuv reads UV_THREADPOOL_SIZE once, when the pool first starts.
 *
 * Node's default is 4 whatever the machine. Hashing is pure CPU, so threads beyond the cores add no
 * hashes per second; each running hash holds its 19 MiB of argon2 memory, and every extra runnable
 * thread takes CPU time from the event loop that serves the requests. On a bigger machine, 4 would cap
 * hashing below the cores available. So: one thread per core (at least 2) unless set explicitly.
 */
import os from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, os.availableParallelism()));
