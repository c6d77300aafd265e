/**
 * Import policy for pickle globals (and Keras `module`/`class_name` pairs): three tiers.
 *
 * - safe: tensor-rebuild helpers, containers, dtypes, plain builtins (never reported);
 * - deny: the union of the anchors' deny lists (picklescan, modelscan, fickling, ModelAudit's additions,
 *   model-scanning.md §12) plus the gadget advisories of §14, each with a severity;
 * - unknown: anything else. An unknown class is not suspicious for being unknown: argument-less (or plain-data)
 *   reconstruction is how every Python library pickles its objects (see `reconstructionKind` and the pickle
 *   executor); an unknown global is reported when it is called with arguments, when its module path reaches
 *   process/file/network/import machinery (`reachesMachinery`), or when code-like/encoded content flows into it.
 *
 * Every dotted component of module and name is checked: a deny-listed module covers its sub-modules,
 * and a dotted *name* that walks through a denied module or a dangerous attribute (`pathlib` + `os.system`)
 * is denied. Known scientific/ML packages are judged by what their names are: curated data classes (including
 * lowercase ones such as scipy.sparse's `coo_matrix`), classes of those packages unless they are known to open
 * files or URLs (`pandas.HDFStore`, `tensorflow.io.gfile.GFile`, ... are denied), and never their functions
 * by default (`numpy.load`, `pandas.read_csv`, `torch.load` are denied; other functions stay unknown).
 */
export type Severity = 'critical' | 'high' | 'medium' | 'low'
export type Tier = 'safe' | 'deny' | 'unknown'

export interface Verdict { tier: Tier; severity?: Severity; reason: string }

/** Python 2 names mapped by `fix_imports` (we apply the mapping for every protocol: conservative). */
const PY2_MODULES: Record<string, string> = {
  __builtin__: 'builtins', copy_reg: 'copyreg', exceptions: 'builtins', cPickle: 'pickle', cStringIO: 'io',
  StringIO: 'io', Queue: 'queue', SocketServer: 'socketserver', urllib2: 'urllib.request', commands: 'subprocess',
  httplib: 'http.client', _winreg: 'winreg', thread: '_thread', dummy_thread: '_dummy_thread', repr: 'reprlib',
  UserDict: 'collections', UserList: 'collections', UserString: 'collections', __builtins__: 'builtins',
}

export function normalizeModule(m: string): string {
  const first = m.split('.')[0]
  const mapped = PY2_MODULES[first]
  return mapped ? mapped + m.slice(first.length) : m
}

/**
 * Python 2 (module, name) pairs that `fix_imports` maps to another Python 3 global (`_compat_pickle.NAME_MAPPING`),
 * keyed by the module as normalizeModule leaves it. Protocol 0-2 pickles written by Python 3 still use them, e.g.
 * a range as `__builtin__.xrange`; `__builtin__.reduce` is functools.reduce.
 */
const PY2_NAMES: Record<string, [string, string]> = {
  'builtins.xrange': ['builtins', 'range'], 'builtins.unicode': ['builtins', 'str'], 'builtins.basestring': ['builtins', 'str'],
  'builtins.long': ['builtins', 'int'], 'builtins.unichr': ['builtins', 'chr'], 'builtins.raw_input': ['builtins', 'input'],
  'builtins.reduce': ['functools', 'reduce'], 'builtins.intern': ['sys', 'intern'],
  'itertools.izip': ['builtins', 'zip'], 'itertools.imap': ['builtins', 'map'], 'itertools.ifilter': ['builtins', 'filter'],
  'itertools.ifilterfalse': ['itertools', 'filterfalse'], 'itertools.izip_longest': ['itertools', 'zip_longest'],
}

/** The global pickle.load resolves: Python 2 module names and (module, name) pairs mapped as `fix_imports` does. */
export function normalizeGlobal(moduleRaw: string, name: string): [string, string] {
  const module = normalizeModule(moduleRaw)
  return PY2_NAMES[`${module}.${name}`] ?? [module, name]
}

/** Whole modules (and all their sub-modules) denied, with severity. */
const DENY_MODULES: Record<string, Severity> = {}
function denyModules(sev: Severity, names: string): void {
  for (const n of names.split(/\s+/).filter(Boolean)) DENY_MODULES[n] = sev
}
denyModules('critical', `os nt posix posixpath ntpath subprocess _posixsubprocess sys pty runpy pickle _pickle pickletools
  bdb pdb shutil asyncio ctypes _ctypes commands code codeop marshal importlib _frozen_importlib _frozen_importlib_external
  _imp imp zipimport pkgutil cProfile profile timeit trace pip venv ensurepip pydoc multiprocessing _multiprocessing
  _osx_support _aix_support _pyrepl distutils numpy.f2py numpy.distutils numpy.testing._private.utils dill cloudpickle
  test _xxsubinterpreters _interpreters _xxinterpchannels doctest idlelib socket _socket webbrowser uuid
  torch.hub torch._dynamo torch._inductor torch.utils.bottleneck torch.utils.collect_env
  fickling picklescan modelscan model_unpickler saferpickle modelaudit
  mailcap concurrent.futures _thread pexpect pipes winreg _winreg msvcrt _winapi
  numpy.ctypeslib cffi _cffi_backend torch.utils.cpp_extension`)
denyModules('high', `ssl http httplib requests aiohttp urllib urllib2 urllib3 httpx smtplib ftplib poplib imaplib telnetlib
  nntplib xmlrpc socketserver signal _signal threading atexit site inspect lib2to3 shelve mmap compileall py_compile
  tempfile fileinput glob tarfile zipfile sqlite3 _sqlite3 linecache gc builtins.__import__ torchvision.io
  paramiko fabric pycurl wget tkinter unittest tensorflow.io.gfile tensorflow.python.platform.gfile
  tensorflow.python.lib.io.file_io numpy.lib._datasource numpy.lib.npyio numpy.lib._npyio_impl pandas.io.pytables pandas.io.clipboard`)
denyModules('medium', `platform select selectors syslog filecmp difflib logging.config weakref _weakref`)

/** Specific (module, name) pairs. A name entry may be dotted ('Trace.run'); prefixes match. */
const DENY_NAMES: Record<string, Record<string, Severity>> = {}
function denyNames(sev: Severity, module: string, names: string): void {
  const m = (DENY_NAMES[module] ??= {})
  for (const n of names.split(/\s+/).filter(Boolean)) m[n] = sev
}
denyNames('critical', 'builtins', 'eval exec compile open getattr apply breakpoint __import__ execfile input globals locals vars reload')
denyNames('high', 'builtins', 'setattr delattr memoryview help exit quit copyright credits license __build_class__ __loader__')
denyNames('critical', 'types', 'CodeType FunctionType LambdaType MethodType ModuleType')
denyNames('high', 'types', 'SimpleNamespace')
denyNames('critical', 'functools', 'partial partialmethod reduce')
denyNames('critical', 'operator', 'attrgetter itemgetter methodcaller')
denyNames('critical', '_operator', 'attrgetter itemgetter methodcaller')
denyNames('medium', 'operator', 'getitem setitem delitem call')
denyNames('medium', '_operator', 'getitem setitem delitem call')
denyNames('high', 'logging', 'FileHandler')
denyNames('high', '_io', 'FileIO open open_code')
denyNames('high', 'io', 'FileIO open open_code')
denyNames('critical', 'codecs', 'open')
denyNames('medium', 'codecs', 'decode lookup getdecoder')
denyNames('medium', '_codecs', 'decode lookup')
denyNames('medium', 'base64', 'b64decode b32decode b16decode a85decode b85decode decodebytes urlsafe_b64decode')
denyNames('medium', 'zlib', 'decompress')
denyNames('medium', 'bz2', 'decompress')
denyNames('medium', 'lzma', 'decompress')
denyNames('medium', 'binascii', 'a2b_base64 unhexlify a2b_hex')
denyNames('critical', 'torch.serialization', 'load')
denyNames('critical', 'torch', 'load compile')
denyNames('critical', 'torch._inductor.codecache', 'compile_file')
denyNames('critical', 'torch.fx.experimental.symbolic_shapes', 'ShapeEnv.evaluate_guards_expression')
denyNames('critical', 'torch.jit.unsupported_tensor_ops', 'execWrapper')
denyNames('critical', 'torch.utils._config_module', 'ConfigModule.load_config ConfigModule')
denyNames('critical', 'torch.utils.data.datapipes.utils.decoder', 'basichandlers')
denyNames('critical', 'torch.distributed.elastic.rendezvous.api', 'basichandlers')
denyNames('high', 'torch.jit', 'load _load_for_lite_interpreter')
denyNames('high', 'torch.package', 'PackageImporter')
denyNames('critical', 'numpy', 'load loadtxt fromfile')
denyNames('high', 'numpy.lib.npyio', 'load loadtxt')
denyNames('critical', 'numpy.testing._private.utils', 'runstring')
denyNames('high', 'pandas', `read_csv read_pickle read_json read_html read_sql read_sql_query read_sql_table read_table read_excel
  read_parquet read_feather read_hdf read_fwf read_clipboard read_orc read_sas read_spss read_stata read_xml read_gbq eval
  HDFStore ExcelWriter to_pickle`)
denyNames('high', 'numpy', 'genfromtxt fromregex save savez savez_compressed savetxt')
denyNames('critical', 'numpy.lib.format', 'read_array open_memmap')
denyNames('high', 'keras.utils', 'get_file')
denyNames('high', 'tensorflow.keras.utils', 'get_file')
denyNames('critical', 'tensorflow.keras.models', 'load_model')
denyNames('critical', 'tf_keras.models', 'load_model')
denyNames('critical', 'tensorflow.saved_model', 'load')
denyNames('high', 'tensorflow.io', 'read_file write_file')
denyNames('critical', 'torch.ops', 'load_library')
denyNames('critical', 'torch.classes', 'load_library')
denyNames('high', 'pandas.io.parsers', 'read_csv read_table')
denyNames('high', 'pandas.io.pickle', 'read_pickle')
denyNames('critical', 'code', 'InteractiveInterpreter.runcode')
denyNames('critical', 'ensurepip', '_run_pip')
denyNames('critical', 'imaplib', 'IMAP4_stream')
denyNames('critical', 'lib2to3.pgen2.grammar', 'Grammar.loads')
denyNames('critical', 'lib2to3.pgen2.pgen', 'ParserGenerator.make_label')
denyNames('critical', 'trace', 'Trace.run Trace.runctx')
denyNames('critical', 'mailcap', 'findmatch')
denyNames('critical', 'multiprocessing.util', 'spawnv_passfds')
denyNames('critical', 'joblib', 'load')
denyNames('critical', 'joblib.numpy_pickle', 'load')
denyNames('critical', 'keras.models', 'load_model')
denyNames('critical', 'tensorflow', 'py_function numpy_function')
denyNames('high', 'jinja2', 'Template Environment')
denyNames('critical', 'copyreg', '_reconstructor.__globals__')
denyNames('high', 'mlflow', 'pyfunc.load_model')
// a shell command, a setup script, or a deserialiser that builds arbitrary objects (yaml) or layers with code (keras)
denyNames('critical', 'platform', 'popen')
denyNames('critical', 'setuptools.sandbox', 'run_setup _execfile')
denyNames('high', 'yaml', 'load load_all unsafe_load unsafe_load_all full_load full_load_all')
denyNames('high', 'keras.layers', 'deserialize')
denyNames('high', 'keras.saving', 'deserialize_keras_object load_model')
denyNames('high', 'tensorflow.keras.layers', 'deserialize')

/** Attribute names that, reached by a dotted traversal, mean code execution or escape. */
const DANGEROUS_ATTRS = new Set(('system popen popen2 popen3 spawn spawnl spawnv spawnve spawnvp execv execve execl execvp ' +
  'eval exec compile open __import__ __builtins__ __globals__ __subclasses__ __getattribute__ __code__ __reduce__ ' +
  '__reduce_ex__ __class__ __mro__ __bases__ __base__ __dict__ __init__ __call__ getattr setattr import_module ' +
  'getattr_static resolve_name run call check_call check_output Popen load loads fork kill remove unlink rmtree ' +
  'system_profile startfile load_library write_text write_bytes symlink_to hardlink_to chmod rmdir').split(' '))

const SAFE_BUILTINS = new Set(('bool int float complex str bytes bytearray list tuple set frozenset dict len abs sum min ' +
  'max round pow divmod sorted reversed enumerate zip range map filter slice iter next all any hash id repr ascii bin ' +
  'hex oct ord chr isinstance issubclass object callable format NoneType Ellipsis NotImplemented True False None ' +
  'ValueError KeyError TypeError IndexError RuntimeError Exception AttributeError NotImplementedError').split(' '))

const SAFE: Record<string, Set<string>> = {}
function safe(module: string, names: string): void {
  const s = (SAFE[module] ??= new Set())
  for (const n of names.split(/\s+/).filter(Boolean)) s.add(n)
}
safe('collections', 'OrderedDict defaultdict Counter deque namedtuple')
safe('array', 'array _array_reconstructor')
safe('copyreg', '_reconstructor __newobj__ __newobj_ex__')
safe('_codecs', 'encode')
safe('torch', `Size device dtype Tensor FloatStorage DoubleStorage HalfStorage BFloat16Storage LongStorage IntStorage
  ShortStorage CharStorage ByteStorage BoolStorage ComplexFloatStorage ComplexDoubleStorage QInt8Storage QUInt8Storage
  QInt32Storage QUInt4x2Storage QUInt2x4Storage UntypedStorage TypedStorage float32 float64 float16 bfloat16 int64
  int32 int16 int8 uint8 bool complex64 complex128 float double half long int short qint8 quint8 qint32
  float8_e4m3fn float8_e5m2 strided sparse_coo channels_last contiguous_format preserve_format memory_format layout
  uint16 uint32 uint64 cfloat cdouble`)
safe('torch._utils', `_rebuild_tensor _rebuild_tensor_v2 _rebuild_tensor_v3 _rebuild_parameter _rebuild_parameter_with_state
  _rebuild_qtensor _rebuild_sparse_tensor _rebuild_nested_tensor _rebuild_device_tensor_from_numpy _rebuild_meta_tensor_no_storage
  _rebuild_wrapper_subclass _rebuild_xla_tensor _rebuild_mps_tensor _rebuild_device_tensor_from_cpu_tensor`)
safe('torch._tensor', '_rebuild_from_type _rebuild_from_type_v2')
safe('torch.storage', '_load_from_bytes')
safe('torch.nn.parameter', 'Parameter')
safe('torch.serialization', '_get_layout')
safe('numpy', 'dtype ndarray float64 float32 float16 int64 int32 int16 int8 uint8 uint16 uint32 uint64 bool_ complex64 complex128 core')
safe('numpy.core.multiarray', '_reconstruct scalar')
safe('numpy._core.multiarray', '_reconstruct scalar')
// ndarray pickles written by NumPy before 1.0 name this one; NumPy keeps it (ndarray.__new__(subtype, shape, dtype))
safe('numpy.core._internal', '_reconstruct')
safe('numpy.dtypes', '*')
safe('numpy.random._pickle', '__randomstate_ctor __generator_ctor __bit_generator_ctor')
safe('joblib.numpy_pickle', 'NumpyArrayWrapper NDArrayWrapper ZNDArrayWrapper')
safe('datetime', 'datetime date time timedelta timezone')
safe('numpy.core.numeric', '_frombuffer')
safe('numpy._core.numeric', '_frombuffer')
safe('numpy.ma.core', '_mareconstruct')
safe('numpy.random.bit_generator', '__pyx_unpickle_SeedSequence')
safe('pandas._libs.internals', '_unpickle_block')
safe('pandas._libs.tslibs.timestamps', '_unpickle_timestamp')
safe('pandas._libs.tslibs.timedeltas', '_timedelta_unpickle')
safe('pandas._libs.tslibs.nattype', '__nat_unpickle')
safe('pandas.core.indexes.base', '_new_Index')
safe('pathlib', 'Path PosixPath WindowsPath PurePath PurePosixPath PureWindowsPath')
safe('argparse', 'Namespace')
safe('re', '_compile')
safe('enum', 'Enum IntEnum Flag IntFlag')
safe('uuid', 'UUID')
safe('decimal', 'Decimal')
safe('fractions', 'Fraction')
safe('builtins', [...SAFE_BUILTINS].join(' '))

/** Packages whose *classes* (capitalised names) are treated as safe data holders unless denied. */
const ML_PACKAGES = new Set(('sklearn numpy scipy pandas torch transformers tokenizers xgboost lightgbm catboost ' +
  'joblib collections datetime tensorflow keras tf_keras sentencepiece accelerate peft safetensors huggingface_hub ' +
  'timm torchvision torchaudio diffusers optimum statsmodels spacy gensim nltk omegaconf lightning pytorch_lightning ' +
  'fairseq sentence_transformers networkx sympy astropy skimage matplotlib jax flax').split(' '))

/**
 * Lowercase data classes of known scientific packages (judged by what they are, not by their case), keyed by
 * the package prefix. Any module under the prefix qualifies (scipy moved `scipy.sparse.coo` to `scipy.sparse._coo`).
 */
const KNOWN_LOWERCASE_CLASSES: Array<[string, RegExp]> = [
  ['scipy.sparse', /^(coo|csr|csc|bsr|dia|dok|lil)_(matrix|array)$|^(spmatrix|sparray|_spbase|_data_matrix|_minmax_mixin)$/],
  ['numpy', /^(ndarray|dtype|matrix|recarray|record|generic|number|integer|floating|complexfloating|bool_|str_|bytes_|void|datetime64|timedelta64|float(16|32|64|128)|int(8|16|32|64)|uint(8|16|32|64)|complex(64|128|256)|longdouble|clongdouble|object_)$/],
  ['torch', /^(device|dtype|finfo|iinfo|layout|memory_format|qscheme|return_types)$/],
]

/** Reconstruction helpers that only allocate their first argument (a class): same verdict as NEWOBJ. */
const RECONSTRUCTORS: Record<string, 'newobj' | 'newobj_ex' | 'reconstructor'> = {
  'copyreg.__newobj__': 'newobj', 'copyreg.__newobj_ex__': 'newobj_ex', 'copyreg._reconstructor': 'reconstructor',
  'sklearn.neighbors._binary_tree.newObj': 'newobj', 'sklearn.neighbors._kd_tree.newObj': 'newobj',
  'sklearn.neighbors._ball_tree.newObj': 'newobj', 'sklearn.neighbors.kd_tree.newObj': 'newobj', 'sklearn.neighbors.ball_tree.newObj': 'newobj',
}

/**
 * How a safe/unknown callable reconstructs objects, if it does:
 *  - 'newobj' (`copyreg.__newobj__(cls, *args)`), 'newobj_ex' (`(cls, args, kwargs)`): `cls.__new__` only;
 *  - 'reconstructor' (`copyreg._reconstructor(cls, base, state)`): `base.__new__(cls, state)` (+ base init);
 *  - 'cython' (`__pyx_unpickle_X(cls, checksum, state)`): Cython's generated `X.__new__` + `__setstate__`.
 */
export function reconstructionKind(moduleRaw: string, name: string): 'newobj' | 'newobj_ex' | 'reconstructor' | 'cython' | null {
  const module = normalizeModule(moduleRaw)
  const k = RECONSTRUCTORS[`${module}.${name}`]
  if (k) return k
  if (name.startsWith('__pyx_unpickle_') && isDottedIdentifier(name)) return 'cython'
  return null
}

/**
 * Module/name components that reach process, file, network or import machinery. Used to escalate *unknown*
 * globals (denied modules are handled by the deny list; this catches `vendor.os.helpers` and friends).
 */
const MACHINERY = new Set(('os nt posix subprocess _posixsubprocess sys socket shutil importlib imp runpy pty ctypes _ctypes ' +
  'marshal multiprocessing pickle _pickle urllib urllib2 urllib3 requests httplib ftplib smtplib telnetlib webbrowser ' +
  'builtins __builtin__ __builtins__ pexpect paramiko system popen popen2 popen3 execv execve execl execlp spawnv spawnl').split(' '))

export function reachesMachinery(moduleRaw: string, name: string): string | null {
  for (const part of [...moduleRaw.split('.'), ...name.split('.')]) {
    if (MACHINERY.has(part)) return part
  }
  return null
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

export function isDottedIdentifier(s: string): boolean {
  if (s.length === 0 || s.length > 512) return false
  for (const p of s.split('.')) if (!IDENT.test(p)) return false
  return true
}

const cache = new Map<string, Verdict>()

export function classifyGlobal(moduleRaw: string, name: string): Verdict {
  const key = moduleRaw + '\u0000' + name
  let v = cache.get(key)
  if (!v) {
    v = classifyUncached(moduleRaw, name)
    if (cache.size > 100_000) cache.clear()
    cache.set(key, v)
  }
  return v
}

const SEV_RANK: Record<Severity, number> = {low: 0, medium: 1, high: 2, critical: 3}
export function maxSeverity(a: Severity | undefined, b: Severity | undefined): Severity | undefined {
  if (!a) return b
  if (!b) return a
  return SEV_RANK[a] >= SEV_RANK[b] ? a : b
}
export function isMaliciousSeverity(s: Severity | undefined): boolean { return s === 'critical' || s === 'high' }

function deniedName(mparts: string[], nparts: string[]): Verdict | null {
  for (let i = mparts.length; i >= 1; i--) {
    const table = DENY_NAMES[mparts.slice(0, i).join('.')]
    if (!table) continue
    const rest = [...mparts.slice(i), ...nparts]
    for (let j = rest.length; j >= 1; j--) {
      const sev = table[rest.slice(0, j).join('.')]
      if (sev) return {tier: 'deny', severity: sev, reason: `${mparts.slice(0, i).join('.')}.${rest.slice(0, j).join('.')} is deny-listed`}
    }
  }
  return null
}

function classifyUncached(moduleRaw: string, nameRaw: string): Verdict {
  const [module, name] = normalizeGlobal(moduleRaw, nameRaw)
  const mparts = module.split('.')
  // 0. curated exact allow-list entries win (e.g. uuid.UUID inside the denied uuid module)
  if (!name.includes('.') && SAFE[module]?.has(name)) return {tier: 'safe', reason: 'allow-listed'}
  const nparts = name.split('.')
  // 1. whole-module denial, any ancestor; 2. exact names (and dotted-name prefixes) in this module or one of its
  // ancestors' tables. When both apply, the more severe wins (platform is a denied module; platform.popen runs a shell).
  const byName = deniedName(mparts, nparts)
  for (let i = mparts.length; i >= 1; i--) {
    const prefix = mparts.slice(0, i).join('.')
    const sev = DENY_MODULES[prefix]
    if (sev) return byName && SEV_RANK[byName.severity!] > SEV_RANK[sev] ? byName : {tier: 'deny', severity: sev, reason: `module ${prefix} is deny-listed`}
  }
  if (byName) return byName
  // 3. dotted names: every component is an attribute access at load time
  if (nparts.length > 1) {
    for (const comp of nparts) {
      if (DENY_MODULES[comp] || DENY_MODULES[normalizeModule(comp)]) {
        return {tier: 'deny', severity: 'critical', reason: `dotted name ${module}.${name} reaches module ${comp}`}
      }
      if (DANGEROUS_ATTRS.has(comp)) {
        return {tier: 'deny', severity: 'critical', reason: `dotted name ${module}.${name} reaches attribute ${comp}`}
      }
    }
    // a dotted name through builtins reaching a denied builtin
    return {tier: 'unknown', reason: `dotted name ${module}.${name} resolved by attribute traversal`}
  }
  if (module === 'builtins' && !SAFE_BUILTINS.has(name)) {
    return {tier: 'unknown', reason: `builtin ${name}`}
  }
  const s = SAFE[module]
  if (s && (s.has(name) || s.has('*'))) return {tier: 'safe', reason: 'allow-listed'}
  for (const [prefix, re] of KNOWN_LOWERCASE_CLASSES) {
    if ((module === prefix || module.startsWith(prefix + '.')) && re.test(name)) return {tier: 'safe', reason: `data class of ${prefix}`}
  }
  if (ML_PACKAGES.has(mparts[0]) && /^[A-Z]/.test(name)) return {tier: 'safe', reason: `class of known ML package ${mparts[0]}`}
  return {tier: 'unknown', reason: `import ${module}.${name} is not on the allow list`}
}
