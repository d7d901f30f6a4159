# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_milly_global_optspecs
    string join \n database-url= o/output= json retry-attempts= retry-base-delay-ms= retry-max-delay-ms= lock-timeout-ms= v/verbose h/help V/version
end

function __fish_milly_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_milly_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_milly_using_subcommand
    set -l cmd (__fish_milly_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c milly -n "__fish_milly_needs_command" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_needs_command" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_needs_command" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_needs_command" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_needs_command" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_needs_command" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_needs_command" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_needs_command" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_needs_command" -f -a "product" -d 'Create, list and show products'
complete -c milly -n "__fish_milly_needs_command" -f -a "stock" -d 'Change stock and read its ledger'
complete -c milly -n "__fish_milly_needs_command" -f -a "discount" -d 'Set a product\'s discount'
complete -c milly -n "__fish_milly_needs_command" -f -a "coupon" -d 'Create and deactivate customer coupons'
complete -c milly -n "__fish_milly_needs_command" -f -a "import" -d 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
complete -c milly -n "__fish_milly_needs_command" -f -a "db" -d 'Apply migrations and inspect the database'
complete -c milly -n "__fish_milly_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c milly -n "__fish_milly_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -f -a "create" -d 'Create a product with its opening stock'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -f -a "list" -d 'List products, oldest first, with stock and discounted price'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -f -a "show" -d 'Show one product priced for a customer at a moment'
complete -c milly -n "__fish_milly_using_subcommand product; and not __fish_seen_subcommand_from create list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l name -d 'Name, 1 to 200 characters (trimmed)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l price -d 'Price with at most 2 decimals, e.g. 10000 or 17.49' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l description -d 'Free text, at most 2000 characters' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l stock -d 'Opening stock, a whole number' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l name -d 'Only names containing this text (case-insensitive; % and _ are literal)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l page-size -d 'Products per page' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l page -d 'Page number, from 1' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l at -d 'Price the products at this time instead of now (RFC 3339 or a date)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l all -d 'Every matching product, streamed as it is read (instead of one page)'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l user -d 'Apply this customer\'s best valid coupon' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l at -d 'Price the product at this time instead of now (RFC 3339 or a date)' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a product with its opening stock'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "list" -d 'List products, oldest first, with stock and discounted price'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one product priced for a customer at a moment'
complete -c milly -n "__fish_milly_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -f -a "adjust" -d 'Add to or take from a product\'s stock (retried on concurrent writes)'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -f -a "history" -d 'Print a product\'s stock ledger, oldest first'
complete -c milly -n "__fish_milly_using_subcommand stock; and not __fish_seen_subcommand_from adjust history help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l change -d 'Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l reason -d 'Why, recorded on the ledger row (at most 200 characters)' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from adjust" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "adjust" -d 'Add to or take from a product\'s stock (retried on concurrent writes)'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "history" -d 'Print a product\'s stock ledger, oldest first'
complete -c milly -n "__fish_milly_using_subcommand stock; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -f -a "set" -d 'Give a product a discount, replacing its active one'
complete -c milly -n "__fish_milly_using_subcommand discount; and not __fish_seen_subcommand_from set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l percent -d 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l from -d 'Start of the discount (RFC 3339 or a date) [default: now]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l until -d 'End of the discount, exclusive (RFC 3339 or a date) [default: 30 days after --from]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from help" -f -a "set" -d 'Give a product a discount, replacing its active one'
complete -c milly -n "__fish_milly_using_subcommand discount; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -f -a "create" -d 'Create a coupon for one customer'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -f -a "deactivate" -d 'Stop a coupon from applying (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and not __fish_seen_subcommand_from create deactivate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l user -d 'The customer\'s external id (1 to 64 characters, no blanks)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l percent -d 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l valid-to -d 'End of validity, exclusive (RFC 3339 or a date)' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l valid-from -d 'Start of validity (RFC 3339 or a date) [default: now]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l code -d 'Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from deactivate" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a coupon for one customer'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'Stop a coupon from applying (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand coupon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -f -a "products" -d 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -f -a "coupons" -d 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
complete -c milly -n "__fish_milly_using_subcommand import; and not __fish_seen_subcommand_from products coupons help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l format -d 'Input format [default: csv for a .csv file, ndjson otherwise]' -r -f -a "ndjson\t'One JSON object per line'
csv\t'A header line naming the fields, then one row per line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from products" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l format -d 'Input format [default: csv for a .csv file, ndjson otherwise]' -r -f -a "ndjson\t'One JSON object per line'
csv\t'A header line naming the fields, then one row per line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from coupons" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "products" -d 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "coupons" -d 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
complete -c milly -n "__fish_milly_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -f -a "migrate" -d 'Apply pending migrations (other commands also do this on their own)'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -f -a "status" -d 'Show the backend, where it points, the schema version and row counts'
complete -c milly -n "__fish_milly_using_subcommand db; and not __fish_seen_subcommand_from migrate status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from migrate" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Apply pending migrations (other commands also do this on their own)'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the backend, where it points, the schema version and row counts'
complete -c milly -n "__fish_milly_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand completions" -l database-url -d 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people (borders only on a terminal)'
json\t'One JSON document: an array for lists, an object otherwise'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header line'"
complete -c milly -n "__fish_milly_using_subcommand completions" -l retry-attempts -d 'Attempts for a write that conflicts with other writers, first included' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l retry-base-delay-ms -d 'Cap of the first random wait after a conflict; it doubles per attempt' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l retry-max-delay-ms -d 'Longest single wait between attempts' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l lock-timeout-ms -d 'How long to wait for another process\'s lock on the database' -r
complete -c milly -n "__fish_milly_using_subcommand completions" -l json -d 'Same as --output json'
complete -c milly -n "__fish_milly_using_subcommand completions" -s v -l verbose -d 'Report retries and other details on stderr'
complete -c milly -n "__fish_milly_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c milly -n "__fish_milly_using_subcommand completions" -s V -l version -d 'Print version'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "product" -d 'Create, list and show products'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "stock" -d 'Change stock and read its ledger'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "discount" -d 'Set a product\'s discount'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "coupon" -d 'Create and deactivate customer coupons'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "import" -d 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "db" -d 'Apply migrations and inspect the database'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c milly -n "__fish_milly_using_subcommand help; and not __fish_seen_subcommand_from product stock discount coupon import db completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "create" -d 'Create a product with its opening stock'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "list" -d 'List products, oldest first, with stock and discounted price'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "show" -d 'Show one product priced for a customer at a moment'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from stock" -f -a "adjust" -d 'Add to or take from a product\'s stock (retried on concurrent writes)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from stock" -f -a "history" -d 'Print a product\'s stock ledger, oldest first'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from discount" -f -a "set" -d 'Give a product a discount, replacing its active one'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from coupon" -f -a "create" -d 'Create a coupon for one customer'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from coupon" -f -a "deactivate" -d 'Stop a coupon from applying (repeating it is harmless)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "products" -d 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "coupons" -d 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "migrate" -d 'Apply pending migrations (other commands also do this on their own)'
complete -c milly -n "__fish_milly_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "status" -d 'Show the backend, where it points, the schema version and row counts'
