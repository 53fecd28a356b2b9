"""Extensions that only announce behaviour every standard resource already has."""
from netweave.core.api.extension import Extension

DESCRIPTION = Extension(
    alias="standard-attr-description", name="standard-attr-description",
    description="Extension to add descriptions to standard attributes",
    updated="2016-02-10T10:00:00-00:00",
)
TIMESTAMP = Extension(
    alias="standard-attr-timestamp", name="Resource timestamps",
    description="Adds created_at and updated_at fields to all Neutron resources "
                "that have Neutron standard attributes.",
    updated="2016-09-12T10:00:00-00:00",
)
REVISIONS = Extension(
    alias="standard-attr-revisions", name="Resource revision numbers",
    description="This extension will display the revision number of neutron resources.",
    updated="2016-04-11T10:00:00-00:00",
)
REVISION_IF_MATCH = Extension(
    alias="revision-if-match", name="If-Match constraints based on revision_number",
    description="Extension indicating that If-Match based on revision_number is supported.",
    updated="2016-12-11T00:00:00-00:00",
)
PROJECT_ID = Extension(
    alias="project-id", name="project_id field enabled",
    description="Extension that indicates that project_id field is enabled.",
    updated="2016-09-09T09:09:09-09:09",
)
PAGINATION = Extension(
    alias="pagination", name="Pagination support",
    description="Extension that indicates that pagination is enabled.",
    updated="2016-06-12T00:00:00-00:00",
)
SORTING = Extension(
    alias="sorting", name="Sorting support",
    description="Extension that indicates that sorting is enabled.",
    updated="2016-06-12T00:00:00-00:00",
)
FILTER_VALIDATION = Extension(
    alias="filter-validation", name="Filter parameters validation",
    description="Provides validation on filter parameters.",
    updated="2018-03-21T10:00:00-00:00",
)
