"""InfluxDBWriteOperator: render or collect line protocol and records, check them, write them."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, AssetAlias, BaseOperator, BaseOperatorLink

from .hooks import InfluxDBWriteHook
from .input_errors import EmptyInputError, InvalidInputError

if TYPE_CHECKING:
    from .client import InfluxDBWriteClient
    from .lineage import Landed
    from .outgoing import Outgoing
    from .sources import Encoding, Source

log = logging.getLogger(__name__)

VALIDATE_MODES = ("strict", "skip", "off")
RESUME_MODES = ("retries", "always", "never")  # see influxdb_write.durable
IF_EMPTY = ("warn", "fail")
DATA_INTERVAL_END = "data_interval_end"
SHOWN_ERRORS = 20
# Requests waiting for an answer at once after a strict check passed (one otherwise):
# two let a server with cores to spare, or far away, work on one batch while the next
# is on its way (see docs/performance.md).
STRICT_IN_FLIGHT = 2


def influxdb_asset(bucket: str, influxdb_conn_id: str = InfluxDBWriteHook.default_conn_name) -> AssetAlias:
    """``bucket`` written through connection ``influxdb_conn_id``, as an asset alias
    (``influxdb_write:<conn id>/<bucket>``): put it in a write task's ``outlets``,
    and schedule consumers or read ``inlet_events`` on the same alias.

    Nothing is looked up while the DAG file is parsed. Once the task has written at
    least one line, it adds an event through the alias on the asset that names the
    server and the bucket, ``influxdb://<host>:<port>/<bucket>`` (see
    :mod:`influxdb_write.assets`), with the write summary as its extra (less
    ``empty``, a list Airflow 3.0 cannot carry there). A dry run, a
    write refused by validation, a write that sent nothing and a failed write add
    none, so no consumer is queued for them.
    """
    from .assets import alias_name

    if not bucket or not influxdb_conn_id:
        raise ValueError("influxdb_asset needs a bucket and a connection id")
    return AssetAlias(name=alias_name(influxdb_conn_id, bucket))


class InfluxDBBucketLink(BaseOperatorLink):
    """Opens the bucket in the InfluxDB UI; the operator stores the URL as it runs."""

    name = "InfluxDB bucket"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return str(XCom.get_value(ti_key=ti_key, key=self.xcom_key) or "")


class TemplateRenderError(ValueError):
    """A templated field could not be rendered; nothing was written."""


class RenderedRecords(list[Any]):
    """The rendered ``records`` field: a list, that Airflow shows among the rendered
    fields as JSON, with a value JSON has no type for (a datetime) as its text.
    Airflow 3.0 calls :meth:`serialize` when the list is not JSON; newer versions
    convert each such value to text themselves."""

    def serialize(self) -> Any:
        import json

        return json.loads(json.dumps(self, default=str))


class InfluxDBWriteOperator(BaseOperator):
    """Write line protocol or records to an InfluxDB bucket.

    Data comes from any of (all are written, in this order):

    - ``line_protocol``: a Jinja-templated string, or a ``.lp``/``.j2`` template
      file; the ``lp_*`` filters of :mod:`influxdb_write.templating` escape values;
    - ``records``: record dicts (templated: a value that is one expression,
      ``"{{ params.v }}"``, keeps the type it evaluates to; the measurement and
      tag values are text), or a DataFrame (pandas, polars, pyarrow);
    - ``xcom_from``: upstream task ids (mapped ones included) returning line
      protocol strings, lists of lines, records, lists of records or pandas
      DataFrames; each map index of a mapped task is a source of its own, named
      by its map index;
    - ``path``: a local file or Airflow object storage path, streamed.

    A DataFrame's columns are mapped by ``measurement`` (one name for every row)
    or ``measurement_column``, ``tag_columns``, ``field_columns`` (default: the
    other columns) and ``time_column`` (default: a pandas ``DatetimeIndex``);
    see :func:`~influxdb_write.line_protocol.encode_frame`. A missing field
    value leaves the field out of its row's line; a row with no field value left
    is not written, and counted in the summary's ``rows_without_fields``.

    :param bucket: target bucket (v1: ``db`` or ``db/rp``); default the connection's.
    :param org: org; default the connection's.
    :param precision: ``ns``, ``us``, ``ms`` or ``s``; default the connection's.
    :param influxdb_conn_id: the ``influxdb_write`` connection.
    :param default_time: the time given to lines and records that have none:
        ``"data_interval_end"`` (default) stamps them with the run's partition
        date when the run is partitioned (Airflow 3.2+), else its data interval
        end (or logical date, or run time when there is none), so a retry, a
        re-run or another run of the same partition overwrites the same points
        instead of adding new ones;
        a ``datetime`` stamps that time; ``None`` leaves them to the server's clock.
    :param validate: ``"strict"`` (default) checks the whole input before the
        first byte is sent and fails listing every bad line, writing nothing;
        entries that would land on one point (measurement, tags, time, the
        default time included) and give a field two values are bad too (see
        :mod:`influxdb_write.line_protocol.points`). ``"skip"`` drops and reports
        bad lines, and counts the entries whose value a later entry of the same
        point replaces in the summary's ``overwritten`` (the server keeps the
        last); ``"off"`` sends as is.
    :param dry_run: render and validate, log a sample and counts, send nothing.
    :param field_types: the type each field is written as, by field key
        (``{"count": "int", "kwh": "float"}``; float, int, uint, bool, string):
        record and frame values are converted where that changes nothing
        (``1`` declared float is ``1.0``), and refused otherwise (``2.5``
        declared int); a line protocol line of another type is invalid.
    :param if_empty: what a source with no line or record at all (an empty file,
        a template that renders to nothing, an upstream task that returned
        nothing) does: ``"warn"`` (default) logs a warning naming it and lists it
        in the summary's ``empty``; ``"fail"`` fails the task before anything is
        sent.

    Returns (as XCom) a small summary: bucket, lines, batches, bytes,
    compressed_bytes, retries, seconds, skipped, overwritten, empty,
    rows_without_fields, dry_run. Never the data.
    """

    template_fields: Sequence[str] = ("bucket", "org", "precision", "line_protocol", "records", "path")
    template_ext: Sequence[str] = (".lp", ".j2")
    template_fields_renderers: ClassVar[dict[str, str]] = {"line_protocol": "text", "records": "json"}
    operator_extra_links = (InfluxDBBucketLink(),)
    ui_color = "#d4e7f7"
    _data_from_function = False  # the TaskFlow decorator supplies data at run time

    def __init__(
        self,
        *,
        bucket: str | None = None,
        org: str | None = None,
        precision: str | None = None,
        influxdb_conn_id: str = InfluxDBWriteHook.default_conn_name,
        line_protocol: str | None = None,
        records: Any = None,
        xcom_from: str | Sequence[str] | None = None,
        path: str | None = None,
        default_time: str | dt.datetime | None = DATA_INTERVAL_END,
        validate: str = "strict",
        dry_run: bool = False,
        if_empty: str = "warn",
        measurement: str | None = None,
        measurement_column: str | None = None,
        tag_columns: Sequence[str] = (),
        field_columns: Sequence[str] | None = None,
        time_column: str | None = None,
        field_types: Mapping[str, str] | None = None,
        resume: str = "retries",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if resume not in RESUME_MODES:
            raise ValueError(f"resume={resume!r} is not one of {', '.join(RESUME_MODES)}")
        if validate not in VALIDATE_MODES:
            raise ValueError(f"validate={validate!r} is not one of {', '.join(VALIDATE_MODES)}")
        if if_empty not in IF_EMPTY:
            raise ValueError(f"if_empty={if_empty!r} is not one of {', '.join(IF_EMPTY)}")
        if isinstance(default_time, str) and default_time != DATA_INTERVAL_END:
            raise ValueError(f"default_time must be {DATA_INTERVAL_END!r}, a datetime or None")
        if (
            line_protocol is None
            and records is None
            and not xcom_from
            and path is None
            and not self._data_from_function
        ):
            raise ValueError("nothing to write: give line_protocol, records, xcom_from or path")
        self.bucket = bucket
        self.org = org
        self.precision = precision
        self.influxdb_conn_id = influxdb_conn_id
        self.line_protocol = line_protocol
        self.records = records
        self.xcom_from = [xcom_from] if isinstance(xcom_from, str) else list(xcom_from or [])
        self.path = path
        self.default_time = default_time
        self.validate = validate
        self._dry_run = dry_run  # BaseOperator.dry_run is a method
        self.if_empty = if_empty
        self.resume = resume
        self.field_types = dict(field_types or {})  # checked when the task runs: the codec is not loaded here
        self.frame_options = {  # FrameMapping.from_options reads them when the task runs
            "measurement": measurement,
            "measurement_column": measurement_column,
            "tag_columns": tag_columns,
            "field_columns": field_columns,
            "time_column": time_column,
        }
        if measurement is not None and measurement_column is not None:
            raise ValueError("give measurement= (one name for every row) or measurement_column=, not both")
        self._client: InfluxDBWriteClient | None = None  # while writing, for on_kill
        self._killed = False
        self._landed: Landed | None = None  # what the write left on the server, for lineage

    # ``path`` is templated as a string, never loaded as a template file even
    # when it ends in .lp: it is data to stream, not a template.
    def resolve_template_files(self) -> None:
        path, self.path = self.path, None
        try:
            super().resolve_template_files()
        finally:
            self.path = path

    # Every templated field, plain or mapped, is rendered through this public
    # method, so the line protocol filters are added to the environment here:
    # a mapped operator renders with an environment of its own, never ours.
    def render_template(
        self, content: Any, context: Any, jinja_env: Any = None, seen_oids: Any = None
    ) -> Any:
        from .templating import FILTERS

        jinja_env = jinja_env or self.get_template_env()
        for name, function in FILTERS.items():
            jinja_env.filters.setdefault(name, function)
        field = next((name for name in self.template_fields if getattr(self, name, None) is content), None)
        try:
            if isinstance(content, str) and content is self.path:
                return jinja_env.from_string(content).render(**context)
            if field == "records":
                records = self._writable_records(self._render_records(content, context, jinja_env, seen_oids))
                return RenderedRecords(records) if isinstance(records, list) else records
            return super().render_template(content, context, jinja_env, seen_oids)
        except Exception as exc:
            if field is None:  # part of a field: the field's own call records it with the field's name
                raise
            # Airflow renders inside the collapsed "Pre Execute" log group and logs the whole
            # template there; execute() raises this instead, as the task's visible error.
            if getattr(self, "_render_error", None) is None:
                self._render_error = TemplateRenderError(
                    f"{field} could not be rendered, so nothing was written: {type(exc).__name__}: {exc}"
                )
                self._render_error.__cause__ = exc
            return content

    def _render_records(self, records: Any, context: Any, jinja_env: Any, seen_oids: Any) -> Any:
        """The ``records`` field rendered as Airflow renders any field, except that a
        value that is one Jinja expression keeps the type it evaluates to (see
        :func:`~influxdb_write.templating.expression_value`): a field value, a time,
        a whole ``tags`` or ``fields`` dict, a whole record, or the whole field (a
        list of records). The measurement and each tag value are always text, as
        line protocol writes them."""
        from .templating import expression_value

        def text(value: Any) -> Any:
            return super(InfluxDBWriteOperator, self).render_template(value, context, jinja_env, seen_oids)

        def typed(value: Any) -> Any:
            if isinstance(value, str):
                found, result = expression_value(jinja_env, value, context)
                if found:
                    return result
            return text(value)

        def record(value: Any) -> Any:
            if not isinstance(value, dict):
                return typed(value)
            rendered = {}
            for key, part in value.items():
                if key == "measurement":
                    rendered[key] = text(part)
                elif key in ("tags", "fields") and isinstance(part, dict):
                    each = text if key == "tags" else typed
                    rendered[key] = {name: each(item) for name, item in part.items()}
                else:
                    rendered[key] = typed(part)
            return rendered

        if isinstance(records, str):
            return typed(records)
        if isinstance(records, (list, tuple)):
            return [record(item) for item in records]
        return record(records) if isinstance(records, dict) else text(records)

    def _writable_records(self, records: Any) -> Any:
        """The rendered records, each record holding NaN or infinity replaced by a note.

        Airflow stores rendered fields as JSON, which has no NaN: it would fail the
        task with a message naming neither record nor field. The records are
        remembered by number instead, and reported like any bad record.
        """
        from .sources import not_finite

        self._refused_records = refused = not_finite(records)
        if not refused:
            return records
        listed = [records] if isinstance(records, Mapping) else list(records)
        return [f"not written: {refused[n]}" if n in refused else r for n, r in enumerate(listed, 1)]

    def _check_outlets(self, bucket: str) -> None:
        """Refuse, before writing, an :func:`influxdb_asset` outlet that names another
        bucket or connection than the task writes to: its event would name data this
        task did not write."""
        from .assets import alias_target

        for outlet in self.outlets:
            target = alias_target(outlet.name) if isinstance(outlet, AssetAlias) else None
            if target is not None and target != (self.influxdb_conn_id, bucket):
                conn_id, named = target
                raise ValueError(
                    f"outlet influxdb_asset({named!r}, {conn_id!r}) names another bucket or connection than "
                    f"this task writes to (bucket {bucket!r} of connection {self.influxdb_conn_id!r}); "
                    f"nothing was written. Use influxdb_asset({bucket!r}, {self.influxdb_conn_id!r})"
                )

    def _check_frame_options(self, sources: list[Source]) -> None:
        """Column options with no DataFrame to apply to are a mistake, not a no-op."""
        from .sources import FrameSource

        given = [name for name, value in self.frame_options.items() if value not in (None, [], ())]
        if given and not any(isinstance(source, FrameSource) for source in sources):
            raise ValueError(
                f"{', '.join(given)} map the columns of a DataFrame, but no input of this task is one; "
                "nothing was written"
            )

    def _raise_render_error(self) -> None:
        """Raise the first error of rendering the templated fields, if there was one."""
        error: TemplateRenderError | None = getattr(self, "_render_error", None)
        if error is not None:
            raise error

    def _stamp(self, context: Mapping[str, Any], precision: str) -> int | None:
        from .line_protocol import datetime_to_timestamp

        if self.default_time is None:
            return None
        when: Any = self.default_time
        if not isinstance(when, dt.datetime):
            dag_run = context.get("dag_run")
            candidates = [
                context.get("partition_date"),  # Airflow 3.2+: a partitioned run writes its partition
                context.get("data_interval_end"),
                context.get("logical_date"),
                getattr(dag_run, "run_after", None),
                getattr(dag_run, "start_date", None),
            ]
            when = next((c for c in candidates if c is not None), None)
            if when is None:
                raise ValueError(
                    "the run has no data interval, logical date or start time to stamp lines with"
                )
        return datetime_to_timestamp(when, precision)

    def sources(self, context: Mapping[str, Any], precision: str) -> list[Source]:
        """The task's inputs, in the order they are written; called once per run.

        Subclasses add inputs here (the TaskFlow decorator adds the function's
        return value).
        """
        from .sources import path_source, records_source, text_source

        encoding = self.encoding(precision)
        sources = []
        if self.line_protocol is not None:
            sources.append(text_source("line_protocol", self.line_protocol))
        if self.records is not None:
            refused = getattr(self, "_refused_records", None)
            sources.append(records_source("records", self.records, encoding, refused))
        for task_id in self.xcom_from:
            sources.extend(self._upstream_sources(context["ti"], task_id, encoding))
        if self.path is not None:
            sources.append(path_source(self.path))
        return sources

    def _upstream_sources(self, ti: Any, task_id: str, encoding: Encoding) -> list[Source]:
        """What ``task_id`` returned: of a mapped task, one source per map index that
        returned a value, named by it (``XCom of up[map_index=4]``), or one empty
        source when none did."""
        from . import collector
        from .sources import TextSource, xcom_sources
        from .upstream import returned_values

        upstream = self.dag.task_dict.get(task_id) if self.has_dag() else None
        mapped = upstream is not None and upstream.get_needs_expansion()
        began = time.monotonic()
        with collector.paused():  # the pull makes only what the task keeps: no garbage to look for
            values = returned_values(ti, task_id, mapped)
        # Pulling a large XCom can take longer than writing it: say so in the log.
        log.info("Pulled the XCom of %s in %.2f s", task_id, time.monotonic() - began)
        if not values:
            return [TextSource(f"XCom of {task_id}")]
        sources = []
        for index, value in values:
            name = f"XCom of {task_id}" if index is None else f"XCom of {task_id}[map_index={index}]"
            sources.extend(xcom_sources(name, value, encoding))
        return sources

    def encoding(self, precision: str) -> Encoding:
        """How this task encodes records and frames: precision, field types, column mapping."""
        from .line_protocol import FrameMapping
        from .line_protocol.declared_types import check_field_types
        from .sources import Encoding

        declared = check_field_types(self.field_types) or None
        stamp = getattr(self, "_default_stamp", None)  # set as the task runs, before its sources are read
        return Encoding(precision, declared, FrameMapping.from_options(self.frame_options), stamp)

    def on_kill(self) -> None:
        """Airflow stops the task (marked failed or cleared in the UI, SIGTERM, its
        execution timeout): abandon the write in progress. No further batch is sent,
        the request in flight is ended, and the log says which lines were confirmed
        written and which were sent without an answer."""
        self._killed = True  # a write not started yet never starts
        client = self._client
        if client is not None:
            log.warning("Task stopped: abandoning the write to InfluxDB")
            client.abort()

    # -- OpenLineage: called by its provider, when installed, in the task's process ----------

    def get_openlineage_facets_on_start(self) -> Any:
        """The bucket the task is to write, from the connection (no network call); none
        for a dry run, which writes nothing."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from .lineage import bucket_output

        if self._dry_run:
            return OperatorLineage()
        hook = InfluxDBWriteHook(self.influxdb_conn_id)
        bucket = self.bucket or hook.settings.bucket
        return OperatorLineage(outputs=[bucket_output(hook, bucket)] if bucket else [])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Each measurement written, with its lines, bytes and schema (see
        :mod:`influxdb_write.lineage`); nothing when nothing was written (a dry run, a
        write that sent nothing)."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from .lineage import outputs

        if self._landed is None:
            return OperatorLineage()
        return OperatorLineage(outputs=outputs(InfluxDBWriteHook(self.influxdb_conn_id), self._landed))

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """What the server holds or may hold of the write: each measurement of the batches
        it confirmed (no schema), or the bucket when it confirmed none but may hold a batch
        sent without an answer; nothing for a write refused by validation, which sent
        nothing."""
        return self.get_openlineage_facets_on_complete(task_instance)

    def execute(self, context: Any) -> dict[str, Any]:
        from .client import PartialWriteError

        try:
            return self._write(context)
        except PartialWriteError as exc:
            outgoing: Outgoing | None = getattr(self, "_outgoing", None)
            if outgoing is not None:
                outgoing.name_rejected(exc)  # in the user's terms: source and its own line or record
            raise

    def _write(self, context: Any) -> dict[str, Any]:
        from . import collector

        self._raise_render_error()
        hook = InfluxDBWriteHook(self.influxdb_conn_id)
        settings = hook.settings
        bucket = self.bucket or settings.bucket
        if not bucket:
            raise ValueError(f"no bucket: set bucket= or the bucket extra of {self.influxdb_conn_id!r}")
        self._check_outlets(bucket)
        precision = self.precision or settings.precision
        # "" where there is no bucket page: the UI then shows no link (Airflow 3.0 refuses a None XCom).
        context["ti"].xcom_push(key=InfluxDBBucketLink().xcom_key, value=hook.bucket_url(bucket) or "")
        self._default_stamp = self._stamp(context, precision)
        sources = self.sources(context, precision)
        with collector.frozen():  # the input, read and written from here on, is left out of collections
            return self._check_and_write(context, hook, bucket, precision, sources)

    def _check_and_write(
        self, context: Any, hook: InfluxDBWriteHook, bucket: str, precision: str, sources: list[Source]
    ) -> dict[str, Any]:
        from . import lineage
        from .assets import alias_target
        from .client import InfluxDBWriteError, WriteResult
        from .client.checkpoints import Checkpoint
        from .client.constants import DEFAULT_MAX_BATCH_BYTES_BY_API
        from .client.errors import ResumeError
        from .durable import Checkpoints, every
        from .line_protocol import Decoder
        from .line_protocol.points import PointIndex
        from .line_protocol.tally import MeasurementTally
        from .outgoing import Outgoing
        from .sources import check_all

        settings, stamp = hook.settings, self._default_stamp
        self._check_frame_options(sources)

        empty = [source.name for source in sources if source.is_empty()]
        for name in empty:
            log.warning("%s is empty: it holds no line or record to write", name)
        if empty and self.if_empty == "fail":
            raise EmptyInputError(
                f"nothing to write in {', '.join(empty)} (if_empty='fail'); nothing was written. Check what "
                "produces it, or pass if_empty='warn' to let empty input through"
            )
        # Every entry is checked against the largest request the client will send,
        # less the default time it may get.
        limit = DEFAULT_MAX_BATCH_BYTES_BY_API[settings.api] - (0 if stamp is None else len(f" {stamp}"))

        def decoder(check: bool = self.validate != "off") -> Decoder:
            return Decoder(
                precision=precision,
                api=settings.api,
                max_entry_bytes=limit,
                check=check,
                field_types=self.field_types,
            )

        if self.validate == "strict":
            checking = decoder()
            points = PointIndex(stamp=stamp)
            problems, count = check_all(sources, checking, SHOWN_ERRORS, points, precision)
            for note in checking.notes:
                log.warning("%s", note)
            if count:
                shown = "\n".join(f"  {p}" for p in problems)
                more = f"\n  ... and {count - SHOWN_ERRORS} more" if count > SHOWN_ERRORS else ""
                raise InvalidInputError(
                    f"{count} invalid line(s) or record(s); nothing was written:\n{shown}{more}"
                )
        if self.validate == "strict" and not points.untimed:
            stamp = None  # every line has its own time: stamping would change nothing

        def outgoing_now() -> Outgoing:
            return Outgoing(
                sources,
                lambda: decoder(self.validate == "skip"),
                skip_bad=self.validate == "skip",
                stamp=stamp,
                points=PointIndex(stamp=stamp) if self.validate == "skip" else None,
                precision=precision,
            )

        outgoing = self._outgoing = outgoing_now()

        summary: dict[str, Any] = {
            "bucket": bucket,
            "skipped": 0,
            "overwritten": 0,
            "empty": empty,
            "dry_run": self._dry_run,
        }
        if self._dry_run:
            sample: list[str] = []
            count = 0
            for entry in outgoing.entries():
                count += 1
                if len(sample) < 5:
                    sample.append(entry)
            log.info("Dry run: %d lines for bucket %r; first ones:\n%s", count, bucket, "\n".join(sample))
            summary.update(lines=count, batches=0, bytes=0, compressed_bytes=0, retries=0, seconds=0.0)
            summary.update(resumed_after_lines=0)
            summary.update(skipped=outgoing.skipped, rows_without_fields=outgoing.rows_without_fields())
            summary.update(overwritten=outgoing.count_overwritten())
            return summary
        tally = MeasurementTally() if lineage.wanted(self) else None
        target = {
            "url": settings.url,
            "api": settings.api,
            "bucket": bucket,
            "org": self.org or settings.org,
            "precision": precision,
            "default_time": self._default_stamp,
            "validate": self.validate,
            "sources": [source.name for source in sources],
        }
        checkpoints = Checkpoints.of(context, self.resume, target, self.retries or 0)
        resume = checkpoints.resume_from()
        counted = points.entries if self.validate == "strict" else None
        with hook.get_client() as client:
            self._client = client
            if self._killed:
                client.abort()

            def write(resume: Checkpoint | None) -> WriteResult:
                return client.write_inputs(
                    bucket,
                    outgoing.inputs(),
                    precision=precision,
                    org=self.org or settings.org,
                    tally=tally,
                    resume=resume,
                    on_checkpoint=checkpoints.save if checkpoints.saving else None,
                    checkpoint_lines=every(counted),
                    on_resumed=checkpoints.announce,
                    # The strict check proved that no two entries give a field of one point
                    # different values, so the order in which batches land changes nothing.
                    in_flight=STRICT_IN_FLIGHT if self.validate == "strict" else 1,
                )

            try:
                try:
                    result = write(resume)
                except ResumeError as exc:
                    log.warning("Not resuming: %s; writing from the first line", exc)
                    outgoing = self._outgoing = outgoing_now()
                    result = write(None)
            except InfluxDBWriteError as exc:
                if exc.may_have_written:  # what landed, or may have, is in the lineage
                    measurements = tally.measurements() if tally is not None else None
                    self._landed = lineage.Landed(bucket, exc.lines_written, None, measurements)
                    hook.report_lineage(bucket)
                raise
            finally:
                self._client = None
                outgoing.finish()  # what was skipped is logged whether or not the write failed
                checkpoints.close()  # the last checkpoint is saved before the task ends, however it ends
        checkpoints.done()
        summary.update(result.as_dict())
        without_fields = result.rows_without_fields + outgoing.rows_without_fields()
        summary.update(skipped=outgoing.skipped, rows_without_fields=without_fields)
        summary.update(overwritten=outgoing.count_overwritten())
        if result.lines:
            measurements = fields = None
            if tally is not None:  # the field types are read only for lineage that names measurements
                types = checking.types if self.validate == "strict" else outgoing.checked_fields()
                fields = types.fields() if types is not None and not types.notes else None
                measurements = tally.measurements()
                if measurements is None:
                    log.warning(
                        "Lineage names bucket %r, not its measurements: the write has more than %d",
                        bucket,
                        tally.limit,
                    )
            self._landed = lineage.Landed(bucket, result.lines, result.bytes, measurements, fields)
            hook.report_lineage(bucket)
        for outlet in self.outlets:
            if isinstance(outlet, Asset) and outlet.uri.startswith("influxdb://"):
                context["outlet_events"][outlet].extra = dict(summary)
            elif isinstance(outlet, AssetAlias) and result.lines and alias_target(outlet.name):
                # Airflow 3.0 hashes an alias event's extra: no list in it (the empty sources' names).
                extra = {key: value for key, value in summary.items() if key != "empty"}
                context["outlet_events"][outlet].add(hook.asset(bucket), extra=extra)
        return summary
