// Loaded with `node --import` into a gantry process: every rename whose source or target path contains
// GANTRY_FAIL_RENAME fails with EIO, as a full disk or a yanked drive would make it fail.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const pattern = process.env.GANTRY_FAIL_RENAME;
if (pattern !== undefined && pattern !== '') {
  const rename = fs.promises.rename;
  fs.promises.rename = async (from, to) => {
    if (String(from).includes(pattern) || String(to).includes(pattern)) {
      throw Object.assign(new Error(`EIO: i/o error (injected), rename '${String(from)}' -> '${String(to)}'`), {
        code: 'EIO',
        syscall: 'rename',
      });
    }
    return rename(from, to);
  };
  syncBuiltinESMExports();
}
