#!/usr/bin/env node
/** The daxsim executable: daxsimMain() over the process's streams, arguments and environment. */
import { daxsimMain } from '../cli/daxsim.js';

const status = await daxsimMain(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  cwd: process.cwd(),
  env: process.env,
  atExit: (fn) => {
    process.once('exit', fn);
    return () => process.off('exit', fn);
  },
});
process.exitCode = status;
