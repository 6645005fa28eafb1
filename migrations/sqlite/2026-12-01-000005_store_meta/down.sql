DROP TABLE store_meta;
