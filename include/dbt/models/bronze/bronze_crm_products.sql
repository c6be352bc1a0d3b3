-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{{ bronze_product(source_name='crm', stream='products', sync='full_refresh', cursor_field=none) }}
