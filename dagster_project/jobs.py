"""The one job: the whole pipeline for a month (or a range of months in one run)."""

from dagster import AssetSelection, define_asset_job

from dagster_project.partitions import monthly_partitions

monthly_pipeline = define_asset_job(
    name="monthly_pipeline",
    # The planning asset is not partitioned and runs on demand (`kim plan`), after this job.
    selection=AssetSelection.all() - AssetSelection.groups("planning"),
    partitions_def=monthly_partitions,
    description="Ingest, gates, dbt warehouse and reports for the selected month(s).",
)
