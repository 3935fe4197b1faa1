/// The two Spectrum import units SOVBridge wrote for the example PCCOs (procore_pcco_1186921.xml,
/// procore_pcco_1187342.xml), verbatim: what the deliverer is given.
enum SpectrumFixtures {
    static let unit007 = """
    <?xml version="1.0" encoding="UTF-8"?>
    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://www.northgate-is.com/proiv/webservices/types">
      <soap:Body>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>cb503f33-36dd-42ea-8d93-18f7e1e9e122</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1017</Job_Number>
          <Customer_Code>OWN100</Customer_Code>
          <Change_Request_Number>007</Change_Request_Number>
          <CR_Description>Temp fence extension and owner AV conduit</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>03/14/2025</Origination_Date>
          <Approved_Date>03/12/2025</Approved_Date>
          <Approved_Days>2</Approved_Days>
          <CR_Phase_Code>01500</CR_Phase_Code>
          <CR_Cost_Type>S</CR_Cost_Type>
          <Change_Request_Amount>1000.00</Change_Request_Amount>
        </ARChangeRequest>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>cb503f33-36dd-42ea-8d93-18f7e1e9e122</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1017</Job_Number>
          <Customer_Code>OWN100</Customer_Code>
          <Change_Request_Number>007</Change_Request_Number>
          <CR_Description>Temp fence extension and owner AV conduit</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>03/14/2025</Origination_Date>
          <Approved_Date>03/12/2025</Approved_Date>
          <Approved_Days>2</Approved_Days>
          <CR_Phase_Code>16100</CR_Phase_Code>
          <CR_Cost_Type>M</CR_Cost_Type>
          <Change_Request_Amount>2500.00</Change_Request_Amount>
        </ARChangeRequest>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>cb503f33-36dd-42ea-8d93-18f7e1e9e122</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1017</Job_Number>
          <Customer_Code>OWN100</Customer_Code>
          <Change_Request_Number>007</Change_Request_Number>
          <CR_Description>Temp fence extension and owner AV conduit</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>03/14/2025</Origination_Date>
          <Approved_Date>03/12/2025</Approved_Date>
          <Approved_Days>2</Approved_Days>
          <CR_Billing_Item_Code>01-000</CR_Billing_Item_Code>
          <CR_Billing_Item_Description>Temp fence extension and owner</CR_Billing_Item_Description>
          <CR_Revenue>1040.30</CR_Revenue>
        </ARChangeRequest>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>cb503f33-36dd-42ea-8d93-18f7e1e9e122</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1017</Job_Number>
          <Customer_Code>OWN100</Customer_Code>
          <Change_Request_Number>007</Change_Request_Number>
          <CR_Description>Temp fence extension and owner AV conduit</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>03/14/2025</Origination_Date>
          <Approved_Date>03/12/2025</Approved_Date>
          <Approved_Days>2</Approved_Days>
          <CR_Billing_Item_Code>16-000</CR_Billing_Item_Code>
          <CR_Billing_Item_Description>Temp fence extension and owner</CR_Billing_Item_Description>
          <CR_Revenue>2600.75</CR_Revenue>
        </ARChangeRequest>
      </soap:Body>
    </soap:Envelope>

    """

    static let unit004 = """
    <?xml version="1.0" encoding="UTF-8"?>
    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://www.northgate-is.com/proiv/webservices/types">
      <soap:Body>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>2f22d922-b683-4246-90fe-aba18f93349f</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1022</Job_Number>
          <Customer_Code>OWN200</Customer_Code>
          <Change_Request_Number>004</Change_Request_Number>
          <CR_Description>Kitchen cooler slab depression and RTU embeds</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>04/02/2025</Origination_Date>
          <Approved_Days>3</Approved_Days>
          <CR_Phase_Code>03310</CR_Phase_Code>
          <CR_Cost_Type>L</CR_Cost_Type>
          <Change_Request_Amount>3969.00</Change_Request_Amount>
        </ARChangeRequest>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>2f22d922-b683-4246-90fe-aba18f93349f</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1022</Job_Number>
          <Customer_Code>OWN200</Customer_Code>
          <Change_Request_Number>004</Change_Request_Number>
          <CR_Description>Kitchen cooler slab depression and RTU embeds</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>04/02/2025</Origination_Date>
          <Approved_Days>3</Approved_Days>
          <CR_Phase_Code>05500</CR_Phase_Code>
          <CR_Cost_Type>S</CR_Cost_Type>
          <Change_Request_Amount>1275.00</Change_Request_Amount>
        </ARChangeRequest>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>2f22d922-b683-4246-90fe-aba18f93349f</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1022</Job_Number>
          <Customer_Code>OWN200</Customer_Code>
          <Change_Request_Number>004</Change_Request_Number>
          <CR_Description>Kitchen cooler slab depression and RTU embeds</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>04/02/2025</Origination_Date>
          <Approved_Days>3</Approved_Days>
          <CR_Billing_Item_Code>03-300</CR_Billing_Item_Code>
          <CR_Billing_Item_Description>Kitchen cooler slab depression</CR_Billing_Item_Description>
          <CR_Revenue>4335.40</CR_Revenue>
        </ARChangeRequest>
        <ARChangeRequest>
          <Authorization_ID/>
          <GUID>2f22d922-b683-4246-90fe-aba18f93349f</GUID>
          <Company_Code>1</Company_Code>
          <Job_Number>24-1022</Job_Number>
          <Customer_Code>OWN200</Customer_Code>
          <Change_Request_Number>004</Change_Request_Number>
          <CR_Description>Kitchen cooler slab depression and RTU embeds</CR_Description>
          <CR_Status>A</CR_Status>
          <Origination_Date>04/02/2025</Origination_Date>
          <Approved_Days>3</Approved_Days>
          <CR_Billing_Item_Code>05-100</CR_Billing_Item_Code>
          <CR_Billing_Item_Description>Kitchen cooler slab depression</CR_Billing_Item_Description>
          <CR_Revenue>1392.70</CR_Revenue>
        </ARChangeRequest>
      </soap:Body>
    </soap:Envelope>

    """

}
