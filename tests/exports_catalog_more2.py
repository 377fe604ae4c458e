"""The exports of tests/exports_catalog_more.py, continued (Shopify's 2024 header set, Vend, Zoho Books,
Dynamics 365, monday.com, LinkedIn connections, QuickBooks Online), and every export's columns left out.

    from exports_catalog_more2 import MORE   # all of them, each with its left_out and preset
"""

from __future__ import annotations

from dataclasses import replace

from exports_catalog import Export
from exports_catalog_more import E, P, U
from exports_catalog_more import MORE as FIRST

LATER = [
    Export(  # Shopify customers export (2024 header set): "'" before numbers, the default address's phone and country
        "Shopify (2024)", "customers_export.csv",
        ["Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing", "Default Address Company",
         "Default Address Address1", "Default Address Address2", "Default Address City",
         "Default Address Province Code", "Default Address Country Code", "Default Address Zip",
         "Default Address Phone", "Phone", "Accepts SMS Marketing", "Total Spent", "Total Orders", "Note",
         "Tax Exempt", "Tags"],
        [["'7312548102345", "Nora", "Berg", "Nora.Berg@Example.no", "yes", "", "Storgata 1", "", "Oslo", "", "NO",
          "'0150", "'412 34 567", "'+4741234567", "no", "120.00", "2", "prefers email", "no", "vip"],
         ["'7312548102346", "Tim", "Kahn", "tim.kahn@example.de", "no", "Kahn KG", "Hauptstr. 9", "", "Köln", "", "DE",
          "'50667", "'0221 1234567", "", "no", "0.00", "0", "", "no", ""]],
        [(170102001, "nora.berg@example.no"), (170102002, "tim.kahn@example.de")],
        {(170102001, E, "Nora.Berg@example.no", ""), (170102001, P, "+4741234567", ""),
         (170102002, E, "tim.kahn@example.de", ""), (170102002, P, "+492211234567", "")},
        {(2, P, "duplicate")},  # the phone twice (default address and customer): sent once
    ),
    Export(  # Vend / Lightspeed X-Series customers export: customer_code, physical_country_id
        "Vend", "customers.csv",
        ["id", "customer_code", "first_name", "last_name", "email", "customer_group_id", "company_name", "phone",
         "mobile", "fax", "twitter", "website", "physical_address1", "physical_city", "physical_postcode",
         "physical_country_id", "postal_country_id", "note", "enable_loyalty"],
        [["0242ac11-0002-11e9-e8c4-5d6b2d4f1a2b", "NORA-7F2K", "Aroha", "Tane", "aroha.tane@example.co.nz",
          "0242ac11-0002-11e9-e8c4-5d6b2d4f0000", "", "09 379 1234", "021 765 4321", "", "", "", "1 Queen St",
          "Auckland", "1010", "NZ", "NZ", "", "1"]],
        [(170102101, "aroha.tane@example.co.nz")],
        {(170102101, E, "aroha.tane@example.co.nz", ""), (170102101, P, "+6493791234", ""),
         (170102101, P, "+64217654321", "Mobile")},
    ),
    Export(  # Zoho Books / Invoice contacts export: EmailID, MobilePhone, billing and shipping countries
        "Zoho Books", "Contacts.csv",
        ["Contact ID", "Contact Name", "Display Name", "Company Name", "Contact Type", "EmailID", "Phone",
         "MobilePhone", "Website", "Billing Country", "Shipping Country", "Status", "Currency Code"],
        [["460000000026049", "Rahul Mehta", "Mehta Traders", "Mehta Traders", "customer", "Rahul@MehtaTraders.in",
          "022 2345 6789", "98200 12345", "mehtatraders.in", "India", "India", "Active", "INR"]],
        [(170102201, "rahul@mehtatraders.in")],
        {(170102201, E, "Rahul@mehtatraders.in", ""), (170102201, P, "+912223456789", ""),
         (170102201, P, "+919820012345", "Mobile"), (170102201, U, "https://mehtatraders.in", "")},
    ),
    Export(  # Microsoft Dynamics 365 "Export to Excel": hidden "(Do Not Modify)" columns, "Address 1: Country/Region"
        "Dynamics 365", "Active Contacts 3-1-2024.xlsx",
        ["(Do Not Modify) Contact", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Full Name",
         "Email", "Business Phone", "Mobile Phone", "Address 1: City", "Address 1: Country/Region", "Company Name"],
        [["8c7e2b1a-1d2e-ee11-9965-000d3a1b2c3d", "kZ3p0Q==", "2024-03-01 10:00:00", "Pieter de Vries",
          "Pieter.deVries@Example.nl", "020 123 4567", "06 12345678", "Amsterdam", "Netherlands", "De Vries BV"]],
        [(170102301, "pieter.devries@example.nl")],
        {(170102301, E, "Pieter.deVries@example.nl", ""), (170102301, P, "+31201234567", "Business"),
         (170102301, P, "+31612345678", "Mobile")},
    ),
    Export(  # monday.com board export to Excel: the board's name, a group's name above each group's header
        "monday.com", "Customers_1709287200.xlsx",
        ["Name", "Email", "Phone", "Status", "Country", "Date"],
        [["Lisa Wong", "lisa.wong@example.sg", "+65 9123 4567", "Active", "Singapore", "2024-03-01"],
         ["Omar Haddad", "Omar@Haddad.ae", "050 123 4567", "Active", "United Arab Emirates", "2024-03-02"],
         [],
         ["Past customers"],
         ["Name", "Email", "Phone", "Status", "Country", "Date"],
         ["Kenji Sato", "kenji.sato@example.jp", "090-1234-5678", "Churned", "Japan", "2023-11-01"]],
        [(170102401, "lisa.wong@example.sg"), (170102402, "omar@haddad.ae"), (170102403, "kenji.sato@example.jp")],
        {(170102401, E, "lisa.wong@example.sg", ""), (170102401, P, "+6591234567", ""),
         (170102402, E, "Omar@haddad.ae", ""), (170102402, P, "+971501234567", ""),
         (170102403, E, "kenji.sato@example.jp", ""), (170102403, P, "+819012345678", "")},
        above=[["Customers"], ["Active customers"]],
    ),
    Export(  # LinkedIn "Connections.csv": a notice above the header; the URL is the person's LinkedIn profile
        "LinkedIn connections", "Connections.csv",
        ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"],
        [["Priya", "Sharma", "https://www.linkedin.com/in/priya-sharma-12345", "Priya.Sharma@Example.com", "Acme",
          "Buyer", "05 Mar 2024"],
         ["Tom", "Lee", "https://www.linkedin.com/in/tomlee", "", "Beta", "CTO", "01 Feb 2024"]],
        [(170102501, "priya.sharma@example.com")],
        {(170102501, E, "Priya.Sharma@example.com", ""),
         (170102501, U, "https://www.linkedin.com/in/priya-sharma-12345", "")},
        {(6, U, "missing-customer-id")},  # no email, no id: said, never guessed
        above=[["Notes:"], ["When exporting your connection data, you may notice that some of the email addresses "
                            "are missing. You will only see email addresses for connections who have allowed their "
                            "connections to see or download their email address using this setting "
                            "https://www.linkedin.com/psettings/privacy/email"], []],
    ),
    Export(  # QuickBooks Online "Customer Contact List" report as CSV: title lines, an empty first column, a footer
        "QuickBooks Online", "Customer Contact List.csv",
        ["", "Customer", "Phone Numbers", "Email", "Full Name", "Billing Address", "Shipping Address"],
        [["", "Amy's Bird Sanctuary", "Phone: +1 (650) 555-3311", "Birds@Intuit.com", "Amy Lauterbach",
          "4581 Finch St. Bayshore CA 94326", ""],
         ["", "Bill's Windsurf Shop", "Phone: +1 (415) 444-6538", "Surf@Intuit.com", "Bill Lucchini",
          "12 Ocean Dr. Half Moon Bay CA 94213", ""],
         [], ["Tuesday, March 05, 2024 10:12:34 AM GMT-08:00"]],
        [(170102601, "birds@intuit.com"), (170102602, "surf@intuit.com")],
        {(170102601, E, "Birds@intuit.com", ""), (170102601, P, "+16505553311", ""),
         (170102602, E, "Surf@intuit.com", ""), (170102602, P, "+14154446538", "")},
        above=[["Craig's Design and Landscaping Services"], ["Customer Contact List"], ["All Dates"], []],
    ),
]


# The columns each export leaves out (names are used only by --create-customers; ids not this store's are
# ignored), and the preset detected where one is.
LEFT_OUT = {
    "Magento 2": {"Account Created in", "Account Lock", "Billing Address", "Billing Firstname",
        "Billing Lastname", "City", "Company", "Confirmed email", "Customer Since", "Date of Birth", "Fax",
        "Gender", "Group", "ID", "Name", "Shipping Address", "State/Province", "Street Address",
        "Tax VAT Number", "VAT Number", "Web Site", "ZIP"},
    "PrestaShop": {"Enabled", "First name", "Group", "ID", "Last name", "Last visit", "Newsletter",
        "Partner offers", "Registration", "Sales", "Social title"},
    "Shopware 6": {"active", "customerNumber", "defaultBillingAddress.city", "defaultBillingAddress.street",
        "defaultBillingAddress.zipcode", "firstName", "group", "guest", "id", "lastName", "salesChannelId",
        "salutation"},
    "OpenCart": {"customer_group", "customer_id", "date_added", "fax", "firstname", "lastname", "newsletter",
        "status"},
    "Copper": {"City", "Company", "Contact Type", "Date Added", "Details", "First Name", "Interaction Count",
        "Last Contacted", "Last Name", "Middle Name", "Name", "Owned By", "Postal Code", "Prefix", "State",
        "Street", "Suffix", "Tags", "Title"},
    "Insightly": {"Assistant Phone", "Contact ID", "Date of Birth", "Fax", "First Name", "Last Name",
        "Mailing Address City", "Mailing Address Postal Code", "Mailing Address State", "Mailing Address Street",
        "Organization", "Salutation", "Tags", "Title"},
    "Zendesk Sell": {"address", "city", "customer_status", "fax", "first_name", "id", "last_name", "name",
        "owner", "postal_code", "prospect_status", "state", "tags", "title"},
    "Agile CRM": {"Address", "City", "Company", "Created Date", "First Name", "Last Name", "Lead Score", "State",
        "Tags", "Title", "Zip"},
    "Bitrix24": {"Address", "City", "Company", "Fax", "First name", "ID", "Last name", "Pager", "Position",
        "Responsible person", "Salutation", "Second name", "Source"},
    "Teamleader": {"Address line 1", "City", "Date of birth", "Fax", "First name", "ID", "Language", "Last name",
        "Postal code", "Tags"},
    "Constant Contact": {"City - Home", "Company name", "Email permission status", "Email status", "First name",
        "Job title", "Last name", "Source name", "State/Province - Home", "Street address line 1 - Home",
        "Updated At", "Zip/Postal code - Home"},
    "MailerLite": {"Groups", "Opt-in IP", "Opted in", "Signup IP", "Subscribed", "city", "company", "last_name",
        "name", "state", "z_i_p"},
    "Stripe": {"Address City", "Address Line1", "Business Vat ID", "Card Address Country", "Card Brand",
        "Card ID", "Card Last4", "Created (UTC)", "Currency", "Delinquent", "Description", "Name",
        "Shipping Address Line1", "Shipping Name", "id"},
    "Xero": {"*ContactName", "AccountNumber", "FaxNumber", "FirstName", "LastName", "POAddressLine1",
        "POAttentionTo", "POCity", "POPostalCode", "PORegion", "SAAddressLine1", "SACity", "SACountry",
        "TaxNumber"},
    "Apple Contacts": {"Address (Home)", "First Name", "Last Name", "Organization"},
    "Facebook Leads": {"ad_id", "ad_name", "adset_id", "adset_name", "campaign_id", "campaign_name",
        "created_time", "form_id", "form_name", "full_name", "id", "is_organic", "lead_status", "platform"},
    "HubSpot (default columns)": {"Contact owner", "First Name", "Last Name", "Marketing contact status",
        "Record ID"},
    "Salesforce Data Loader": {"AccountId", "CreatedDate", "Fax", "FirstName", "Id", "LastName", "OwnerId"},
    "Outlook (Deutsch)": {"Abteilung", "Anrede", "E-Mail-Typ", "E-Mail: Angezeigter Name", "Fax geschäftlich",
        "Firma", "Geburtstag", "Land/Region privat", "Nachname", "Notizen", "Ort geschäftlich", "Ort privat",
        "Pager", "Position", "Postleitzahl geschäftlich", "Straße geschäftlich", "Straße privat",
        "Telefon Assistent", "Vorname", "Weitere Vornamen"},
    "Google Contacts (:::)": {"Address 1 - Label", "File As", "First Name", "Labels", "Last Name", "Middle Name",
        "Nickname", "Organization Name"},
    "Shopify (2024)": {"Accepts Email Marketing", "Accepts SMS Marketing", "Customer ID",
        "Default Address Address1", "Default Address Address2", "Default Address City",
        "Default Address Company", "Default Address Province Code", "Default Address Zip", "First Name",
        "Last Name", "Note", "Tags", "Tax Exempt", "Total Orders", "Total Spent"},
    "Vend": {"company_name", "customer_code", "customer_group_id", "enable_loyalty", "fax", "first_name", "id",
        "last_name", "physical_address1", "physical_city", "physical_postcode", "postal_country_id"},
    "Zoho Books": {"Company Name", "Contact ID", "Contact Name", "Contact Type", "Currency Code", "Display Name",
        "Shipping Country", "Status"},
    "Dynamics 365": {"(Do Not Modify) Contact", "(Do Not Modify) Modified On", "(Do Not Modify) Row Checksum",
        "Address 1: City", "Company Name", "Full Name"},
    "monday.com": {"Name", "Status"},
    "LinkedIn connections": {"Company", "Connected On", "First Name", "Last Name", "Position"},
    "QuickBooks Online": {"Billing Address", "Customer", "Full Name", "Shipping Address"},
}
PRESET = {"Google Contacts (:::)": "google", "Shopify (2024)": "shopify"}
MORE = [replace(e, left_out=LEFT_OUT[e.product], preset=PRESET.get(e.product)) for e in (*FIRST, *LATER)]
