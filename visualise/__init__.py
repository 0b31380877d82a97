"""famlink visualise stage: offline, self-contained pyvis network views of families.

Compute first (:func:`family_view_data`, :func:`index_data` read the output database), then
render (:func:`render_family_view`, :func:`render_index` return HTML strings); only
:func:`write_views` and the CLI write files.
"""

from famlink.visualise.data import FamilyViewData, IndexData
from famlink.visualise.family_data import family_view_data
from famlink.visualise.family_view import render_family_view
from famlink.visualise.index_data import index_data
from famlink.visualise.index_view import child_view_filename, render_index
from famlink.visualise.write import write_views

__all__ = [
    "FamilyViewData",
    "IndexData",
    "child_view_filename",
    "family_view_data",
    "index_data",
    "render_family_view",
    "render_index",
    "write_views",
]
