"""Exporters: where a run export goes. Files now; an upload to a lab system is one more class.

An `Exporter` takes a `RunExport` and returns where the data went (paths, URLs, receipt ids).
A lab-system upload implements `export` (map `RunExport.document`, already schema-valid, to
the lab's API) and needs nothing else from meterbench.
"""

from __future__ import annotations

import csv
import io
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from meterbench.reports.export import CSV_COLUMNS, RunExport, csv_cell


class Exporter(ABC):
    """Deliver one run export somewhere."""

    name: ClassVar[str]

    @abstractmethod
    def export(self, data: RunExport) -> list[str]:
        """Deliver ``data``; return where it went (file paths, URLs, receipt ids)."""


class FileExporter(Exporter):
    """Writes one file per export into ``out_dir`` (created if needed)."""

    suffix: ClassVar[str]

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)

    @abstractmethod
    def serialise(self, data: RunExport) -> bytes: ...

    def write(self, data: RunExport) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{data.stem}.{self.suffix}"
        path.write_bytes(self.serialise(data))
        return path

    def export(self, data: RunExport) -> list[str]:
        return [str(self.write(data))]


class JsonFileExporter(FileExporter):
    name = "json"
    suffix = "json"

    def serialise(self, data: RunExport) -> bytes:
        text = json.dumps(data.document, ensure_ascii=False, indent=2) + "\n"
        return text.encode("utf-8")


class CsvFileExporter(FileExporter):
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""

    name = "csv"
    suffix = "csv"

    def serialise(self, data: RunExport) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in data.rows:
            writer.writerow([csv_cell(row.get(column)) for column in CSV_COLUMNS])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


FILE_EXPORTERS: dict[str, type[FileExporter]] = {
    JsonFileExporter.name: JsonFileExporter,
    CsvFileExporter.name: CsvFileExporter,
}
