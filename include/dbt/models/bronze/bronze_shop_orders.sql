-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{{ bronze_order(source_name='shop', stream='orders', sync='incremental', cursor_field='modified_at') }}
