"""What HACS and hassfest check, checked locally (their GitHub Actions cannot run here).

Reproduced: hacs.json keys against HACS's manifest fields; manifest.json's key order (domain,
name, then alphabetical), required keys and semver version; brand images and their sizes; the
version in manifest.json, pyproject.toml and CHANGELOG.md; services documented and translated.
Not reproduced: HACS's repository checks that need GitHub (topics, description, releases,
archived state, the brands repository), and hassfest's full schema validation of manifest,
strings and services, which runs Home Assistant's own `script.hassfest` against a core checkout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import importlib.util
import json
from pathlib import Path
import re
import struct
import tomllib
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "flexcharging"
# hacs.json fields HACS reads (hacs.xyz "publish/start", HacsManifest).
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}
# Keys hassfest requires of a custom integration's manifest.
REQUIRED_MANIFEST_KEYS = {
    "domain",
    "name",
    "codeowners",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "requirements",
    "version",
}
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$")


def manifest() -> dict[str, object]:
    return json.loads((INTEGRATION / "manifest.json").read_text())


def changelog_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "changelog_section", ROOT / "scripts" / "changelog_section.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_hacs_json_keys() -> None:
    """Only fields HACS knows, with the name and a minimum Home Assistant version."""
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS, set(hacs) - HACS_KEYS
    assert hacs["name"] == manifest()["name"]
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", hacs["homeassistant"])


def test_manifest_keys_and_order() -> None:
    """hassfest: domain, name, then the other keys sorted; the keys a custom integration needs."""
    keys = list(manifest())
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert set(keys) >= REQUIRED_MANIFEST_KEYS, REQUIRED_MANIFEST_KEYS - set(keys)
    assert manifest()["domain"] == INTEGRATION.name
    assert all("==" in requirement for requirement in manifest()["requirements"])  # type: ignore[attr-defined]


def test_versions_agree() -> None:
    """manifest.json's semver version is pyproject's and the latest released changelog entry."""
    version = str(manifest()["version"])
    assert SEMVER.match(version), version
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == version
    released = re.findall(r"^## \[(\d[^\]]*)\]", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert released[0] == version
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_release_notes_come_from_the_changelog(capsys: pytest.CaptureFixture[str]) -> None:
    """The release workflow's notes: the version's section, found for `vX.Y.Z` and `X.Y.Z`."""
    script = changelog_script()
    version = str(manifest()["version"])
    assert script.main(["changelog_section.py", f"v{version}"]) == 0
    notes = capsys.readouterr().out
    assert notes.startswith("### ")
    assert "## [" not in notes
    assert "]: https://" not in notes
    assert script.main(["changelog_section.py", "99.0.0"]) == 1
    assert script.main(["changelog_section.py"]) == 2


def test_license() -> None:
    """An MIT LICENSE, and the same license in pyproject.toml."""
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("icon.png", "square256"),
        ("icon@2x.png", "square512"),
        ("dark_icon.png", "square256"),
        ("dark_icon@2x.png", "square512"),
        ("logo.png", "logo"),
        ("logo@2x.png", "logo2x"),
    ],
)
def test_brand_images(name: str, rule: str) -> None:
    """Home Assistant's brand image rules: icons square 256/512; logos' short side 128-256/256-512."""
    path = INTEGRATION / "brand" / name
    if name.startswith("dark_") and not path.exists():
        pytest.skip("dark variants are optional")
    width, height = png_size(path)
    short = min(width, height)
    match rule:
        case "square256":
            assert (width, height) == (256, 256)
        case "square512":
            assert (width, height) == (512, 512)
        case "logo":
            assert 128 <= short <= 256
        case "logo2x":
            assert 256 <= short <= 512


# How Home Assistant registers a service, and which argument names it.
_SERVICE_NAME_ARGUMENT = {
    "async_register": (1, "service"),  # hass.services.async_register(domain, service, ...)
    "async_register_entity_service": (0, "name"),  # platform.async_register_entity_service
    "async_register_platform_entity_service": (2, "service_name"),
}


def registered_services(sources: dict[str, str]) -> Iterator[str]:
    """The service names that the given modules register (by `hass.services` or a platform)."""
    trees = {name: ast.parse(source) for name, source in sources.items()}
    constants = {
        target.id: node.value.value
        for tree in trees.values()
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _SERVICE_NAME_ARGUMENT
            ):
                continue
            function = node.func
            # webhook.async_register and the like register no service.
            if function.attr == "async_register" and not (
                isinstance(function.value, ast.Attribute) and function.value.attr == "services"
            ):
                continue
            position, keyword = _SERVICE_NAME_ARGUMENT[function.attr]
            argument = next((kw.value for kw in node.keywords if kw.arg == keyword), None)
            if argument is None and len(node.args) > position:
                argument = node.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield argument.value
            elif isinstance(argument, ast.Name) and argument.id in constants:
                yield constants[argument.id]
            else:
                pytest.fail(f"{module}:{node.lineno}: a service name this test cannot resolve")


def test_service_scanner_finds_every_way_of_registering() -> None:
    """The scanner below sees services registered each way, and ignores webhooks."""
    sources = {
        "const.py": 'SERVICE_PAUSE = "pause"\n',
        "__init__.py": (
            "hass.services.async_register(DOMAIN, 'charge_now', handler)\n"
            "hass.services.async_register(DOMAIN, SERVICE_PAUSE, handler)\n"
            "webhook.async_register(hass, DOMAIN, 'FlexCharging', webhook_id, handle)\n"
            "platform.async_register_entity_service('set_target', schema, 'method')\n"
            "service.async_register_platform_entity_service(hass, DOMAIN, 'skip', "
            "entity_domain=SWITCH_DOMAIN, schema=None, func='skip')\n"
        ),
    }
    assert sorted(registered_services(sources)) == ["charge_now", "pause", "set_target", "skip"]


def test_registered_services_are_documented_and_translated() -> None:
    """Every registered service is in services.yaml, strings.json and icons.json, and no other."""
    sources = {
        str(path.relative_to(INTEGRATION)): path.read_text() for path in INTEGRATION.rglob("*.py")
    }
    services = set(registered_services(sources))
    services_yaml = INTEGRATION / "services.yaml"
    documented = yaml.safe_load(services_yaml.read_text()) if services_yaml.exists() else None
    assert set(documented or {}) == services
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(strings.get("services", {})) == services
    assert set(icons.get("services", {})) == services
    for service in services:
        translated = strings["services"][service]
        assert translated["name"]
        assert translated["description"]
        fields = (documented[service] or {}).get("fields", {})
        assert set(translated.get("fields", {})) == set(fields), service
        for field in fields:
            assert translated["fields"][field]["name"], f"{service}.{field}"
