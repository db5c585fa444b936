"""Type stubs of the native module; use the `svchunt` package's functions instead."""

from typing import Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

__version__: str

# (file, location, message) of a located reading problem.
_Warning = Tuple[str, str, str]

def read_events(
    paths: Sequence[str],
    ids: Optional[Sequence[int]] = None,
    local_tz: Optional[str] = None,
    threads: Optional[int] = None,
) -> Tuple[pa.Table, List[_Warning], str]: ...
def read_events_from_bytes(
    name: str,
    data: bytes,
    ids: Optional[Sequence[int]] = None,
    select: Optional[str] = None,
    local_tz: Optional[str] = None,
) -> Tuple[pa.Table, List[_Warning], str]: ...

class NativeHunt:
    @property
    def semantics(self) -> str: ...
    @property
    def warnings(self) -> List[_Warning]: ...
    @property
    def stats(self) -> str: ...
    def table(self, what: str) -> Tuple[pa.Table, List[_Warning]]: ...
    def render(self, format: str, csv_raw: bool = False) -> str: ...
    def json_lines(self, what: str) -> List[str]: ...

def hunt(
    paths: Optional[Sequence[str]] = None,
    events: Optional[pa.Table] = None,
    options: Optional[Dict[str, object]] = None,
) -> NativeHunt: ...
def host_key(computer: str) -> str: ...
def anchor_ids(semantics: str = "lifecycle") -> List[int]: ...
def events_schema() -> pa.Schema: ...
def findings_schema() -> pa.Schema: ...
