"""The pure rules of the service: no database, no HTTP, no web framework.

The template document model and its walkers (`document`), crosswalk documents
(`crosswalk_document`), transforms, answer validation, projection of answers onto templates,
coverage between templates, the merged form, languages (`i18n`), strict JSON, and the stable
ids of table rows in a workspace's answers (`rows`: taken out before any of the others sees
them). Every other package may import these; they import nothing of the service but `errors`
and `resources`.
"""
