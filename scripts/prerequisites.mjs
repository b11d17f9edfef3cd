// What `npm test` needs beyond Node, made available before any test runs (never skipped silently):
//   - ONNX's checker: a python3 that can `import onnx`. Tried in order: the pythons on hand (python3,
//     /usr/bin/python3, the project venv .venv-onnx); Debian's python3-onnx via apt-get when running as
//     root; a project-local venv `.venv-onnx` with `pip install onnx`. Otherwise it stops at once with
//     the one command to run.
//   - Chromium for the browser tests: /usr/bin/chromium (Debian's `chromium`), installed via apt-get when
//     running as root, else it stops with the command.
// The choices are handed to the tests as GANTRY_PYTHON and GANTRY_CHROMIUM.
//
// Run alone: `node scripts/prerequisites.mjs` prints what it chose. For testing this chain:
// GANTRY_PYTHON_CANDIDATES (colon-separated) replaces the pythons on hand, GANTRY_PREREQUISITES_NO_APT=1
// and GANTRY_PREREQUISITES_NO_PIP=1 rule out apt-get and pip, GANTRY_ONNX_VENV moves the venv, and
// GANTRY_CHROMIUM names the browser to use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const VENV = process.env.GANTRY_ONNX_VENV || join(root, '.venv-onnx');
const venvPython = join(VENV, 'bin', 'python');
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

class PrerequisiteError extends Error {}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

function onnxVersion(python) {
  const result = run(python, ['-c', 'import onnx; print(onnx.__version__)']);
  return result.status === 0 ? result.stdout.trim() : null;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = () => process.env.GANTRY_PREREQUISITES_NO_APT !== '1' && run('apt-get', ['--version']).status === 0;

let aptUpdated = false;
function aptInstall(log, pkg) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log(`prerequisites: apt-get update (to install ${pkg})`);
    aptUpdated = run('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status === 0;
  }
  log(`prerequisites: apt-get install -y ${pkg}`);
  return run('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env }).status === 0;
}

function pythonsOnHand() {
  const override = process.env.GANTRY_PYTHON_CANDIDATES;
  const listed = override !== undefined ? override.split(':').filter(Boolean) : ['python3', '/usr/bin/python3'];
  return [...listed, venvPython];
}

/** A python3 that can import onnx, set up if need be; returns its path and onnx version. */
export function ensureOnnxPython(log = console.error) {
  for (const python of pythonsOnHand()) {
    const version = onnxVersion(python);
    if (version !== null) return { python, version };
  }
  const installCommand = hasApt()
    ? 'sudo apt-get install -y python3-onnx'
    : `python3 -m venv ${VENV} && ${venvPython} -m pip install onnx`;
  if (isRoot() && hasApt() && aptInstall(log, 'python3-onnx')) {
    const version = onnxVersion('/usr/bin/python3');
    if (version !== null) return { python: '/usr/bin/python3', version };
  }
  if (process.env.GANTRY_PREREQUISITES_NO_PIP !== '1') {
    const base = pythonsOnHand().find(
      (python) => python !== venvPython && run(python, ['-c', 'import venv, ensurepip']).status === 0,
    );
    if (base !== undefined) {
      log(`prerequisites: no python3 here can import onnx; creating ${VENV} and running pip install onnx`);
      const made = existsSync(venvPython) || run(base, ['-m', 'venv', VENV], { stdio: 'inherit' }).status === 0;
      if (made && run(venvPython, ['-m', 'pip', 'install', '--quiet', 'onnx'], { stdio: 'inherit' }).status === 0) {
        const version = onnxVersion(venvPython);
        if (version !== null) return { python: venvPython, version };
      }
    }
  }
  throw new PrerequisiteError(
    `ONNX's checker needs a python3 that can import onnx, and none could be set up here. Run:\n  ${installCommand}\nthen npm test again.`,
  );
}

/** Chromium for the browser tests; returns its path. */
export function ensureChromium(log = console.error) {
  const chromium = process.env.GANTRY_CHROMIUM || DEFAULT_CHROMIUM;
  if (existsSync(chromium)) return chromium;
  if (chromium === DEFAULT_CHROMIUM && isRoot() && hasApt() && aptInstall(log, 'chromium') && existsSync(chromium))
    return chromium;
  throw new PrerequisiteError(
    `the browser tests need Chromium at ${chromium}, which is missing. Run:\n  sudo apt-get install -y chromium\n(or set GANTRY_CHROMIUM to a Chromium binary), then npm test again.`,
  );
}

/** Sets both up; returns the environment the tests run with. */
export function ensurePrerequisites(log = console.error) {
  const { python, version } = ensureOnnxPython(log);
  const chromium = ensureChromium(log);
  log(`prerequisites: ONNX's checker in ${python} (onnx ${version}); Chromium at ${chromium}`);
  return { GANTRY_PYTHON: python, GANTRY_CHROMIUM: chromium };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const env = ensurePrerequisites();
    for (const [key, value] of Object.entries(env)) console.log(`${key}=${value}`);
  } catch (error) {
    if (!(error instanceof PrerequisiteError)) throw error;
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
}
