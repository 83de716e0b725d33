"""The pure rules of the service: no database, no HTTP, no web framework.

The template document model and its walkers (`document`), crosswalk documents
(`crosswalk_document`), transforms, answer validation, projection of answers onto templates,
coverage between templates, the merged form, languages (`i18n`) and strict JSON. Every other
package may import these; they import nothing of the service but `errors` and `resources`.
"""
