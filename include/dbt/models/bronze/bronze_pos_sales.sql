-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{{ bronze_sale(source_name='pos', stream='sales', sync='incremental', cursor_field='updated_at') }}
