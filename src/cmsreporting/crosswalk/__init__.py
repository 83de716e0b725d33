"""Concepts, mappings and their bindings to template questions; exchange as SSSOM and SKOS."""

# The mapping service registers the carry-over of mappings with the template lifecycle
# (templates sit below the crosswalk and never import it): importing the package wires it.
from cmsreporting.crosswalk import mapping_service as _mapping_service  # noqa: F401
