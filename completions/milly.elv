
use builtin;
use str;

set edit:completion:arg-completer[milly] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'milly'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'milly'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand product 'Create, list and show products'
            cand stock 'Change stock and read its ledger'
            cand discount 'Set a product''s discount'
            cand coupon 'Create and deactivate customer coupons'
            cand import 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
            cand db 'Apply migrations and inspect the database'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;product'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a product with its opening stock'
            cand list 'List products, oldest first, with stock and discounted price'
            cand show 'Show one product priced for a customer at a moment'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;product;create'= {
            cand --name 'Name, 1 to 200 characters (trimmed)'
            cand --price 'Price with at most 2 decimals, e.g. 10000 or 17.49'
            cand --description 'Free text, at most 2000 characters'
            cand --stock 'Opening stock, a whole number'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;list'= {
            cand --name 'Only names containing this text (case-insensitive; % and _ are literal)'
            cand --page-size 'Products per page'
            cand --page 'Page number, from 1'
            cand --at 'Price the products at this time instead of now (RFC 3339 or a date)'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --all 'Every matching product, streamed as it is read (instead of one page)'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;show'= {
            cand --user 'Apply this customer''s best valid coupon'
            cand --at 'Price the product at this time instead of now (RFC 3339 or a date)'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;help'= {
            cand create 'Create a product with its opening stock'
            cand list 'List products, oldest first, with stock and discounted price'
            cand show 'Show one product priced for a customer at a moment'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;product;help;create'= {
        }
        &'milly;product;help;list'= {
        }
        &'milly;product;help;show'= {
        }
        &'milly;product;help;help'= {
        }
        &'milly;stock'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand adjust 'Add to or take from a product''s stock (retried on concurrent writes)'
            cand history 'Print a product''s stock ledger, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;stock;adjust'= {
            cand --change 'Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)'
            cand --reason 'Why, recorded on the ledger row (at most 200 characters)'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;stock;history'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;stock;help'= {
            cand adjust 'Add to or take from a product''s stock (retried on concurrent writes)'
            cand history 'Print a product''s stock ledger, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;stock;help;adjust'= {
        }
        &'milly;stock;help;history'= {
        }
        &'milly;stock;help;help'= {
        }
        &'milly;discount'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Give a product a discount, replacing its active one'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;discount;set'= {
            cand --percent 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5'
            cand --from 'Start of the discount (RFC 3339 or a date) [default: now]'
            cand --until 'End of the discount, exclusive (RFC 3339 or a date) [default: 30 days after --from]'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;discount;help'= {
            cand set 'Give a product a discount, replacing its active one'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;discount;help;set'= {
        }
        &'milly;discount;help;help'= {
        }
        &'milly;coupon'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a coupon for one customer'
            cand deactivate 'Stop a coupon from applying (repeating it is harmless)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;coupon;create'= {
            cand --user 'The customer''s external id (1 to 64 characters, no blanks)'
            cand --percent 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5'
            cand --valid-to 'End of validity, exclusive (RFC 3339 or a date)'
            cand --valid-from 'Start of validity (RFC 3339 or a date) [default: now]'
            cand --code 'Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;coupon;deactivate'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;coupon;help'= {
            cand create 'Create a coupon for one customer'
            cand deactivate 'Stop a coupon from applying (repeating it is harmless)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;coupon;help;create'= {
        }
        &'milly;coupon;help;deactivate'= {
        }
        &'milly;coupon;help;help'= {
        }
        &'milly;import'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand products 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
            cand coupons 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;import;products'= {
            cand --format 'Input format [default: csv for a .csv file, ndjson otherwise]'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;import;coupons'= {
            cand --format 'Input format [default: csv for a .csv file, ndjson otherwise]'
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;import;help'= {
            cand products 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
            cand coupons 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;import;help;products'= {
        }
        &'milly;import;help;coupons'= {
        }
        &'milly;import;help;help'= {
        }
        &'milly;db'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand migrate 'Apply pending migrations (other commands also do this on their own)'
            cand status 'Show the backend, where it points, the schema version and row counts'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;db;migrate'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;db;status'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;db;help'= {
            cand migrate 'Apply pending migrations (other commands also do this on their own)'
            cand status 'Show the backend, where it points, the schema version and row counts'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;db;help;migrate'= {
        }
        &'milly;db;help;status'= {
        }
        &'milly;db;help;help'= {
        }
        &'milly;completions'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'How long to wait for another process''s lock on the database'
            cand --json 'Same as --output json'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;help'= {
            cand product 'Create, list and show products'
            cand stock 'Change stock and read its ledger'
            cand discount 'Set a product''s discount'
            cand coupon 'Create and deactivate customer coupons'
            cand import 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
            cand db 'Apply migrations and inspect the database'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;help;product'= {
            cand create 'Create a product with its opening stock'
            cand list 'List products, oldest first, with stock and discounted price'
            cand show 'Show one product priced for a customer at a moment'
        }
        &'milly;help;product;create'= {
        }
        &'milly;help;product;list'= {
        }
        &'milly;help;product;show'= {
        }
        &'milly;help;stock'= {
            cand adjust 'Add to or take from a product''s stock (retried on concurrent writes)'
            cand history 'Print a product''s stock ledger, oldest first'
        }
        &'milly;help;stock;adjust'= {
        }
        &'milly;help;stock;history'= {
        }
        &'milly;help;discount'= {
            cand set 'Give a product a discount, replacing its active one'
        }
        &'milly;help;discount;set'= {
        }
        &'milly;help;coupon'= {
            cand create 'Create a coupon for one customer'
            cand deactivate 'Stop a coupon from applying (repeating it is harmless)'
        }
        &'milly;help;coupon;create'= {
        }
        &'milly;help;coupon;deactivate'= {
        }
        &'milly;help;import'= {
            cand products 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
            cand coupons 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
        }
        &'milly;help;import;products'= {
        }
        &'milly;help;import;coupons'= {
        }
        &'milly;help;db'= {
            cand migrate 'Apply pending migrations (other commands also do this on their own)'
            cand status 'Show the backend, where it points, the schema version and row counts'
        }
        &'milly;help;db;migrate'= {
        }
        &'milly;help;db;status'= {
        }
        &'milly;help;completions'= {
        }
        &'milly;help;help'= {
        }
    ]
    $completions[$command]
}
