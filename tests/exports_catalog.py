"""Exports of products the importer has no preset for, as those products write them (issue 19).

Each `Export` is one file: its header row as the product writes it (Zoho CRM, Pipedrive, WooCommerce,
Klaviyo, Brevo, Wix, Odoo, Square, BigCommerce, Squarespace, Lightspeed, ActiveCampaign, Freshsales,
Keap, Ecwid's own customer export), values as people type them (national phone formats, number cells
in xlsx, capitals in emails, blank cells, the product's own ids), the store's customers (an Ecwid
customer export: id,email,name) and what an import with no flags must do:

    stored   {(customer id, TYPE, contact as sent, note)}   every contact created
    lines    {(row, TYPE, error code)}                       every other contact, each on a line of its own
    left_out the columns not imported (names are used only by --create-customers)

`write(export, folder)` writes the file in the product's own format (encoding, delimiter, xlsx with
number cells) and the customers CSV; tests/test_any_export.py imports each with no flags.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl


@dataclass(frozen=True)
class Export:
    product: str
    name: str  # file name: its extension says the format
    header: list[str]
    rows: list[list[object]]
    customers: list[tuple[int, str]]  # the store's customers: (id, email)
    stored: set[tuple[int, str, str, str]]
    lines: set[tuple[int, str, str]] = field(default_factory=set)
    left_out: set[str] = field(default_factory=set)
    encoding: str = "utf-8"
    delimiter: str = ","
    above: list[list[object]] = field(default_factory=list)  # lines before the header (a report's title, a notice)
    preset: str | None = None  # the preset detected (none: Zoho's Record Id + Contact Owner is not HubSpot)


def write(export: Export, folder: Path) -> tuple[Path, Path]:
    path = folder / export.name
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Export"
        for row in [*export.above, export.header, *export.rows]:
            sheet.append([None if v == "" else v for v in row])
        book.save(path)
    else:
        with open(path, "w", encoding=export.encoding, newline="") as f:
            csv.writer(f, delimiter=export.delimiter).writerows([*export.above, export.header, *export.rows])
    customers = folder / f"{path.stem}-customers.csv"
    with open(customers, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "email", "name"], *[[i, e, e.split("@")[0]] for i, e in export.customers]])
    return path, customers


E, P, W, U, O = "EMAIL", "PHONE", "WHATSAPP", "URL", "OTHER"

EXPORTS = [
    Export(  # Zoho CRM, Contacts module export: its own `Record Id`, `Contact Owner` (not HubSpot)
        "Zoho CRM", "Contacts_2024_03_01.csv",
        ["Record Id", "Contact Owner", "Lead Source", "First Name", "Last Name", "Account Name", "Email",
         "Secondary Email", "Title", "Phone", "Home Phone", "Mobile", "Fax", "Asst Phone", "Skype ID", "Twitter",
         "Mailing Street", "Mailing City", "Mailing Country", "Other Country", "Email Opt Out", "Created Time"],
        [["zcrm_4876876000000321001", "Maria Schmidt", "Web", "Anna", "Müller", "Müller GmbH", "Anna.Mueller@Example.de",
          "anna@home.example.de", "CEO", "030 43224299 ext. 204", "", "0171 2345678", "030 43224200", "030 43224201",
          "anna.mueller", "@annamueller", "Hauptstr. 1", "Berlin", "Germany", "", "false", "2024-03-01 10:22:00"],
         ["zcrm_4876876000000321002", "Maria Schmidt", "Trade Show", "Luca", "Rossi", "", "luca.rossi@example.it", "",
          "", "", "06 6982 1234", "347 123 4567", "", "", "", "", "Via Roma 5", "Roma", "Italia", "", "true",
          "2024-03-02 09:00:00"]],
        [(170000001, "anna.mueller@example.de"), (170000002, "luca.rossi@example.it")],
        {(170000001, E, "Anna.Mueller@example.de", ""), (170000001, E, "anna@home.example.de", "Secondary"),
         (170000001, P, "+493043224299", "ext. 204"), (170000001, P, "+491712345678", "Mobile"),
         (170000001, O, "anna.mueller", "Skype"), (170000001, "TWITTER", "https://x.com/annamueller", ""),
         (170000002, E, "luca.rossi@example.it", ""), (170000002, P, "+390669821234", "Home"),
         (170000002, P, "+393471234567", "Mobile")},
        {(2, P, "column-not-imported")},  # Fax and Asst Phone are not the customer's phones: said, not sent
        {"Record Id", "Contact Owner", "Lead Source", "First Name", "Last Name", "Account Name", "Title",
                  "Fax", "Asst Phone", "Mailing Street", "Mailing City", "Other Country", "Email Opt Out",
                  "Created Time"},
    ),
    Export(  # Pipedrive, People export to Excel: "Person - <field> - <label>", number cells, two customers on a row
        "Pipedrive", "people-export.xlsx",
        ["Person - ID", "Person - Name", "Person - Label", "Person - Organization", "Person - Email - Work",
         "Person - Email - Home", "Person - Email - Other", "Person - Phone - Work", "Person - Phone - Mobile",
         "Person - Phone - Home", "Person - Owner", "Person - Postal address - Country", "Person - Open deals",
         "Person - Add time"],
        [[1287, "Jonas Weber", "Customer", "Weber AG", "J.Weber@Weber-AG.de", "jonas.weber@gmail.com", "",
          "+49 30 12345678", 4915112345678, "", "Lisa Owner", "Deutschland", 2, dt.datetime(2024, 1, 5, 9, 30)],
         [1288, "Sofia García", "", "", "sofia.garcia@example.es", "", "", "", "629 03 24 28", "", "Lisa Owner",
          "España", 0, dt.datetime(2024, 1, 6, 11, 0)],
         [1289, "Tom Baker", "", "Bakers Ltd", "tom@bakers.co.uk", "tom.baker@gmail.com", "", "020 7946 0018", "", "",
          "Lisa Owner", "United Kingdom", 1, dt.datetime(2024, 1, 7, 8, 15)]],
        [(170000101, "jonas.weber@gmail.com"), (170000102, "sofia.garcia@example.es"),
         (170000103, "tom@bakers.co.uk"), (170000104, "tom.baker@gmail.com")],
        {(170000101, E, "J.Weber@weber-ag.de", "Work"), (170000101, E, "jonas.weber@gmail.com", "Home"),
         (170000101, P, "+493012345678", "Work"), (170000101, P, "+4915112345678", "Mobile"),
         (170000102, E, "sofia.garcia@example.es", "Work"), (170000102, P, "+34629032428", "Mobile")},
        # the third row's emails name two customers: never guessed
        {(4, E, "customer-ambiguous"), (4, P, "customer-ambiguous")},
        {"Person - ID", "Person - Name", "Person - Label", "Person - Organization", "Person - Owner",
         "Person - Open deals", "Person - Add time"},
    ),
    Export(  # WooCommerce customers (Customer/Order CSV Export): its own customer_id, billing_ and shipping_ columns
        "WooCommerce", "customers-export-2024-03-01.csv",
        ["customer_id", "username", "email", "first_name", "last_name", "billing_first_name", "billing_last_name",
         "billing_company", "billing_email", "billing_phone", "billing_address_1", "billing_city", "billing_postcode",
         "billing_country", "shipping_first_name", "shipping_last_name", "shipping_country", "shipping_phone",
         "total_spent", "order_count"],
        [["12", "mario.b", "Mario.Bianchi@example.it", "Mario", "Bianchi", "Mario", "Bianchi", "", "mario.bianchi@example.it",
          "333 123 4567", "Via Po 3", "Torino", "10121", "IT", "Mario", "Bianchi", "IT", "", "120.50", "3"],
         ["15", "janed", "jane.doe@example.com", "Jane", "Doe", "Jane", "Doe", "Doe LLC", "jane@doe-family.com",
          "(415) 555-0132", "1 Main St", "San Francisco", "94105", "US", "Jane", "Doe", "US", "415-555-0199", "80.00",
          "1"]],
        [(170000201, "mario.bianchi@example.it"), (170000202, "jane.doe@example.com")],
        {(170000201, E, "Mario.Bianchi@example.it", ""), (170000201, P, "+393331234567", "Billing"),
         (170000202, E, "jane.doe@example.com", ""), (170000202, E, "jane@doe-family.com", "Billing"),
         (170000202, P, "+14155550132", "Billing"), (170000202, P, "+14155550199", "Shipping")},
        {(2, E, "duplicate")},  # billing_email repeats email (ignoring case): sent once
        # customer_id is read, and found not to be this store's (a note says so): the emails name the customers,
        # and summary.json lists customer_id as ignored
        {"customer_id", "username", "first_name", "last_name", "billing_first_name", "billing_last_name",
         "billing_company", "billing_address_1", "billing_city", "billing_postcode", "shipping_first_name",
         "shipping_last_name", "total_spent", "order_count"},
    ),
    Export(  # Klaviyo profiles export: no id column but Klaviyo's own, an Email column
        "Klaviyo", "klaviyo-profiles.csv",
        ["Email", "Phone Number", "First Name", "Last Name", "Organization", "City", "State / Region", "Country",
         "Zip Code", "Source", "Klaviyo ID", "First Active", "Last Active", "Email Marketing Consent",
         "SMS Marketing Consent"],
        [["Emma.Wilson@Example.co.uk", "+44 7911 123456", "Emma", "Wilson", "", "Leeds", "", "United Kingdom", "LS1",
          "Shopify", "01HF3Z7K9QW2M4N8P6R5T3V1X0", "2023-05-01", "2024-02-01", "SUBSCRIBED", "NEVER_SUBSCRIBED"],
         ["noah@example.com", "(312) 555-0147", "Noah", "", "", "Chicago", "IL", "United States", "60601", "Popup",
          "01HF3Z7K9QW2M4N8P6R5T3V1X1", "2023-06-01", "2024-02-02", "UNSUBSCRIBED", ""]],
        [(170000301, "emma.wilson@example.co.uk"), (170000302, "noah@example.com")],
        {(170000301, E, "Emma.Wilson@example.co.uk", ""), (170000301, P, "+447911123456", ""),
         (170000302, E, "noah@example.com", ""), (170000302, P, "+13125550147", "")},
        set(),
        {"First Name", "Last Name", "Organization", "City", "State / Region", "Zip Code", "Source", "Klaviyo ID",
         "First Active", "Last Active", "Email Marketing Consent", "SMS Marketing Consent"},
    ),
    Export(  # Brevo (Sendinblue) contacts export: ";", SMS and LANDLINE_NUMBER attributes, no country
        "Brevo", "brevo_contacts.csv",
        ["CONTACT ID", "EMAIL", "FIRSTNAME", "LASTNAME", "SMS", "LANDLINE_NUMBER", "WHATSAPP", "DOUBLE_OPT-IN",
         "BLACKLISTED", "ADDED_TIME"],
        [["17", "Claire.Dubois@Example.fr", "Claire", "Dubois", "+33612345678", "+33 1 42 68 53 00", "+33612345678",
          "Yes", "No", "2024-02-03"],
         ["18", "pierre.martin@example.fr", "Pierre", "Martin", "33698765432", "01 42 68 53 01", "", "No", "No",
          "2024-02-04"]],
        [(170000401, "claire.dubois@example.fr"), (170000402, "pierre.martin@example.fr")],
        {(170000401, E, "Claire.Dubois@example.fr", ""), (170000401, P, "+33612345678", "SMS"),
         (170000401, P, "+33142685300", "LANDLINE"), (170000401, W, "+33612345678", ""),
         (170000402, E, "pierre.martin@example.fr", "")},
        # numbers without +country code in a file that names no country: said, not guessed
        {(3, P, "phone-needs-region"), (3, P, "phone-needs-region")},
        {"CONTACT ID", "FIRSTNAME", "LASTNAME", "DOUBLE_OPT-IN", "BLACKLISTED", "ADDED_TIME"},
        delimiter=";",
    ),
    Export(  # Wix contacts export, saved by Excel on Windows (cp1252): "Address 1 - Country" is the row's country
        "Wix", "contacts.csv",
        ["First Name", "Last Name", "Email 1", "Email 2", "Phone 1", "Phone 2", "Address 1 - Street",
         "Address 1 - City", "Address 1 - Country", "Company", "Labels", "Email subscriber status",
         "Created At (UTC+0)"],
        [["José", "García", "Jose.Garcia@Example.es", "", "629 03 24 28", "91 123 45 67", "Calle Mayor 1", "Madrid",
          "Spain", "", "Customer", "Subscribed", "2023-10-01 10:00"],
         ["Zoë", "Müller", "zoe.mueller@example.de", "ZOE@work.example.de", "0151 23456789", "", "Hauptstr. 2",
          "Berlin", "Germany", "Acme", "", "Never subscribed", "2023-10-02 11:00"]],
        [(170000501, "jose.garcia@example.es"), (170000502, "zoe.mueller@example.de")],
        {(170000501, E, "Jose.Garcia@example.es", ""), (170000501, P, "+34629032428", ""),
         (170000501, P, "+34911234567", ""), (170000502, E, "zoe.mueller@example.de", ""),
         (170000502, E, "ZOE@work.example.de", ""), (170000502, P, "+4915123456789", "")},
        set(),
        {"First Name", "Last Name", "Address 1 - Street", "Address 1 - City", "Company", "Labels",
         "Email subscriber status", "Created At (UTC+0)"},
        encoding="cp1252",
    ),
    Export(  # Odoo contacts (res.partner) exported to Excel: ids like __export__.res_partner_695_aa71bc8f
        "Odoo", "res.partner.xlsx",
        ["ID", "Name", "Email", "Phone", "Mobile", "Street", "City", "Country", "Tags", "Salesperson"],
        [["__export__.res_partner_695_aa71bc8f", "Lukas Novák", "Lukas.Novak@example.cz", "+420 222 123 456",
          "+420 777 123 456", "Národní 1", "Praha", "Czech Republic", "VIP", "Mitchell Admin"],
         ["__export__.res_partner_696_1b2c3d4e", "Eva Svobodová", "eva.svoboda@example.cz", "", "777 654 321", "",
          "Brno", "Czechia", "", "Mitchell Admin"]],
        [(170000601, "lukas.novak@example.cz"), (170000602, "eva.svoboda@example.cz")],
        {(170000601, E, "Lukas.Novak@example.cz", ""), (170000601, P, "+420222123456", ""),
         (170000601, P, "+420777123456", "Mobile"), (170000602, E, "eva.svoboda@example.cz", ""),
         (170000602, P, "+420777654321", "Mobile")},
        set(),
        {"ID", "Name", "Street", "City", "Tags", "Salesperson"},
    ),
    Export(  # Square customer directory export, Excel's "Unicode Text": UTF-16, tab-separated
        "Square", "export-20240301.txt",
        ["Reference ID", "First Name", "Last Name", "Email Address", "Phone Number", "Nickname", "Company Name",
         "Street Address 1", "City", "State", "Postal Code", "Birthday", "Memo", "Square Customer ID",
         "Creation Source", "First Visit", "Last Visit", "Transaction Count", "Total Spend",
         "Email Subscription Status"],
        [["", "Olivia", "Brown", "Olivia.Brown@Example.com", "+1 415-555-0132", "Liv", "", "1 Market St",
          "San Francisco", "CA", "94105", "1990-04-01", "", "7ZKJQ4X1Z0ABC12D", "Point of Sale", "2023-01-01",
          "2024-02-01", "12", "$340.00", "subscribed"],
         ["A-77", "Liam", "Smith", "liam@example.com", "+1 (646) 555-0188", "", "", "", "New York", "NY", "10001", "",
          "prefers SMS", "8ABCD4X1Z0ABC99Z", "Directory", "2023-03-01", "2024-01-15", "3", "$45.00",
          "unsubscribed"]],
        [(170000701, "olivia.brown@example.com"), (170000702, "liam@example.com")],
        {(170000701, E, "Olivia.Brown@example.com", ""), (170000701, P, "+14155550132", ""),
         (170000702, E, "liam@example.com", ""), (170000702, P, "+16465550188", "")},
        set(),
        {"Reference ID", "First Name", "Last Name", "Nickname", "Company Name", "Street Address 1", "City", "State",
         "Postal Code", "Birthday", "Memo", "Square Customer ID", "Creation Source", "First Visit", "Last Visit",
         "Transaction Count", "Total Spend", "Email Subscription Status"},
        encoding="utf-16", delimiter="\t",
    ),
    Export(  # BigCommerce customers export: its own Customer ID (1, 2, ...), address columns numbered "- 1"
        "BigCommerce", "customers-2024-03-01.csv",
        ["Customer ID", "First Name", "Last Name", "Company", "Email", "Phone", "Store Credit", "Customer Group",
         "Date Joined", "Address Line 1 - 1", "City - 1", "Zip - 1", "Country - 1", "Address Phone - 1",
         "Receive Review/Marketing Emails"],
        [["1", "Ann", "Lee", "", "Ann.Lee@example.com", "+1 (415) 555-0101", "0.00", "Retail", "2023-01-02",
          "5 Pine St", "Seattle", "98101", "United States", "415-555-0102", "Y"],
         ["2", "Ben", "Ng", "Ng Pty", "ben.ng@example.com.au", "0412 345 678", "0.00", "Wholesale", "2023-02-03",
          "1 George St", "Sydney", "2000", "Australia", "", "N"]],
        [(170000801, "ann.lee@example.com"), (170000802, "ben.ng@example.com.au")],
        {(170000801, E, "Ann.Lee@example.com", ""), (170000801, P, "+14155550101", ""),
         (170000801, P, "+14155550102", ""), (170000802, E, "ben.ng@example.com.au", ""),
         (170000802, P, "+61412345678", "")},
        set(),
        {"Customer ID", "First Name", "Last Name", "Company", "Store Credit", "Customer Group", "Date Joined",
         "Address Line 1 - 1", "City - 1", "Zip - 1", "Receive Review/Marketing Emails"},
    ),
    Export(  # Squarespace customers export (Commerce > Customers): billing and shipping phone numbers
        "Squarespace", "customers.csv",
        ["First Name", "Last Name", "Email", "Accepts Marketing", "Billing Address 1", "Billing City",
         "Billing Country", "Billing Phone Number", "Shipping Country", "Shipping Phone Number", "Total Spent",
         "Order Count"],
        [["Chloé", "Martin", "chloe.martin@example.fr", "Yes", "12 rue de Rivoli", "Paris", "France", "06 12 34 56 78",
          "Belgium", "0470 12 34 56", "99.00", "2"]],
        [(170000901, "chloe.martin@example.fr")],
        # the billing country is the row's; the shipping number is read in the shipping country (a Belgian mobile,
        # which read in France would be a French landline)
        {(170000901, E, "chloe.martin@example.fr", ""), (170000901, P, "+33612345678", "Billing"),
         (170000901, P, "+32470123456", "Shipping")},
        set(),
        {"First Name", "Last Name", "Accepts Marketing", "Billing Address 1", "Billing City", "Total Spent",
         "Order Count"},
    ),
    Export(  # Lightspeed Retail customers export: its own Customer ID, "Phone Home", "Phone Work", pager and fax
        "Lightspeed", "Customers.csv",
        ["Customer ID", "First Name", "Last Name", "Title", "Company", "Customer Type", "Email", "Email 2",
         "Phone Home", "Phone Work", "Mobile", "Fax", "Pager", "Website", "Address 1", "City", "Zip", "Country"],
        [["101", "Hans", "Jansen", "Dhr.", "", "Retail", "hans.jansen@example.nl", "", "020 123 4567", "",
          "06 12345678", "", "", "www.jansen.nl", "Damrak 1", "Amsterdam", "1012 LG", "Netherlands"]],
        [(170001001, "hans.jansen@example.nl")],
        {(170001001, E, "hans.jansen@example.nl", ""), (170001001, P, "+31201234567", "Home"),
         (170001001, P, "+31612345678", "Mobile"), (170001001, U, "https://www.jansen.nl", "")},
        set(),
        {"Customer ID", "First Name", "Last Name", "Title", "Company", "Customer Type", "Fax", "Pager", "Address 1",
         "City", "Zip"},
    ),
    Export(  # ActiveCampaign contacts export
        "ActiveCampaign", "contacts-export.csv",
        ["Email", "First Name", "Last Name", "Phone", "Organization", "Tags", "Date Created", "IP Address",
         "Country"],
        [["Mia.Schulz@Example.at", "Mia", "Schulz", "0664 1234567", "", "newsletter", "2023-11-02 14:12:00",
          "203.0.113.7", "Austria"]],
        [(170001101, "mia.schulz@example.at")],
        {(170001101, E, "Mia.Schulz@example.at", ""), (170001101, P, "+436641234567", "")},
        set(),
        {"First Name", "Last Name", "Organization", "Tags", "IP Address"},
    ),
    Export(  # Freshsales contacts export: phone columns named only "Work" and "Mobile"
        "Freshsales", "contacts.csv",
        ["First name", "Last name", "Emails", "Work", "Mobile", "Job title", "Sales owner", "Country", "Twitter",
         "LinkedIn", "Facebook"],
        [["Noah", "Fischer", "Noah.Fischer@example.ch", "044 668 18 00", "079 123 45 67", "CTO", "Sam Sales",
          "Switzerland", "@noahf", "https://www.linkedin.com/in/noahfischer", ""]],
        [(170001201, "noah.fischer@example.ch")],
        {(170001201, E, "Noah.Fischer@example.ch", ""), (170001201, P, "+41446681800", "Work"),
         (170001201, P, "+41791234567", "Mobile"), (170001201, "TWITTER", "https://x.com/noahf", ""),
         (170001201, U, "https://www.linkedin.com/in/noahfischer", "LinkedIn")},
        set(),
        {"First name", "Last name", "Job title", "Sales owner"},
    ),
    Export(  # Keap (Infusionsoft) contacts export: its own "Id", numbered emails and phones with their types
        "Keap", "contacts_keap.csv",
        ["Id", "First Name", "Last Name", "Email", "Email 2", "Email 3", "Phone 1", "Phone 1 Type", "Phone 2",
         "Phone 2 Type", "Fax 1", "Company", "Country", "Tags", "Owner", "Date Created"],
        [["7", "Grace", "Hall", "grace.hall@example.com", "GRACE@hallcorp.com", "", "(212) 555-0111", "Work",
          "(917) 555-0122", "Mobile", "(212) 555-0100", "Hall Corp", "United States", "lead", "Owner A", "3/14/2024 10:22 AM"],
         ["9", "Ivan", "Petrov", "", "ivan.petrov@example.com", "", "+7 916 123-45-67", "Mobile", "", "", "", "",
          "Russia", "", "Owner A", "3/15/2024 9:05 AM"]],
        [(170001301, "grace.hall@example.com"), (170001302, "ivan.petrov@example.com")],
        {(170001301, E, "grace.hall@example.com", ""), (170001301, E, "GRACE@hallcorp.com", ""),
         (170001301, P, "+12125550111", ""), (170001301, P, "+19175550122", ""),
         (170001302, E, "ivan.petrov@example.com", ""), (170001302, P, "+79161234567", "")},
        {(2, P, "column-not-imported")},  # Fax 1
        # Keap's US dates are the customer record's, not the contacts' timestamps: left out, with a note
        {"Id", "First Name", "Last Name", "Phone 1 Type", "Phone 2 Type", "Fax 1", "Company", "Tags", "Owner",
         "Date Created"},
    ),
    Export(  # Ecwid's own customers export (Excel): the store's ids, billing person phone
        "Ecwid", "customers_ecwid.xlsx",
        ["customer_id", "customer_name", "customer_email", "billing_person_phone", "billing_person_country_code",
         "customer_group", "registered", "accepts_marketing"],
        [[170001401, "Sara Berg", "Sara.Berg@Example.se", "070 123 45 67", "SE", "General", "2024-01-01 10:00:00",
          "true"],
         [170001402, "Ola Nordmann", "ola@example.no", 4791234567, "NO", "General", "2024-01-02 10:00:00", "false"]],
        [(170001401, "sara.berg@example.se"), (170001402, "ola@example.no")],
        {(170001401, P, "+46701234567", "Billing"), (170001402, P, "+4791234567", "Billing")},
        set(),
        {"customer_name", "customer_group", "registered", "accepts_marketing"},
    ),
]
